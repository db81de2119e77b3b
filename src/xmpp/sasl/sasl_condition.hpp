#pragma once
// RFC 6120 §6.5: SASL failure conditions.
#include <string_view>

namespace starling::xmpp::sasl {

enum class SaslCondition {
    aborted,
    account_disabled,
    credentials_expired,
    encryption_required,
    incorrect_encoding,
    invalid_authzid,
    invalid_mechanism,
    malformed_request,
    mechanism_too_weak,
    not_authorized,
    temporary_auth_failure,
};

constexpr std::string_view to_string(SaslCondition c) {
    switch (c) {
        case SaslCondition::aborted: return "aborted";
        case SaslCondition::account_disabled: return "account-disabled";
        case SaslCondition::credentials_expired: return "credentials-expired";
        case SaslCondition::encryption_required: return "encryption-required";
        case SaslCondition::incorrect_encoding: return "incorrect-encoding";
        case SaslCondition::invalid_authzid: return "invalid-authzid";
        case SaslCondition::invalid_mechanism: return "invalid-mechanism";
        case SaslCondition::malformed_request: return "malformed-request";
        case SaslCondition::mechanism_too_weak: return "mechanism-too-weak";
        case SaslCondition::not_authorized: return "not-authorized";
        case SaslCondition::temporary_auth_failure: return "temporary-auth-failure";
    }
    return "not-authorized";
}

}  // namespace starling::xmpp::sasl
