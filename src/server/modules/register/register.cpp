// XEP-0077: the module's options and the two policies it is made of (register_module.hpp).
#include "server/config/options.hpp"
#include "server/modules/register/register_module.hpp"
#include "xmpp/precis.hpp"

namespace starling::registration {

using namespace server;

std::optional<std::string> account_name(std::string_view text, const xmpp::Jid& domain) {
    auto name = xmpp::precis::username_case_mapped(text);
    if (!name || !xmpp::Jid::from_parts(*name, domain.str(), "")) return std::nullopt;
    return name;
}

xml::Element query_with_instructions(std::string_view instructions) {
    xml::Element query{"query", std::string(register_ns)};
    query.add_child("instructions", std::string(register_ns)).add_text(instructions);
    return query;
}

RegisterModule::RegisterModule(ModuleContext& ctx, const Options& options) : ctx_{ctx}, options_{options} {
    register_account_management();
    if (options_.allow_registration) register_in_band_creation();
}

namespace {

const config::ModuleOptionsOf<Options> options{
    config::OptionSet<Options>{}
        .add("allow_registration", &Options::allow_registration,
             "Let anyone create an account from a client before logging in (XEP-0077 §3.1); managing "
             "one's own account (password change, deletion) is always possible")
        .add("registrations_per_address", &Options::registrations_per_address,
             "Accounts one IP address may create per window (0: no limit)")
        .add("window", &Options::window, "Seconds over which registrations_per_address is counted",
             std::function<std::string(const std::chrono::seconds&)>(
                 [](const std::chrono::seconds& s) { return s.count() > 0 ? std::string{} : "must be positive"; }))
        .add("password_change_closes_sessions", &Options::password_change_closes_sessions,
             "A password change from a client closes the account's other sessions (stream error <reset/>)")};

}  // namespace

extern const ModuleInfo info{
    .name = "register",
    .description = "Lets users change their password and delete their account from the client; with "
                   "allow_registration, lets anyone create an account",
    .xeps = {{77, "2.4", "In-Band Registration"}},
    .options = &options,
    .create = create_module_with_options<RegisterModule, Options>,
};

}  // namespace starling::registration
