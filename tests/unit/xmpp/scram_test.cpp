#include "xmpp/sasl/scram.hpp"

#include <gtest/gtest.h>

#include <string>

#include "base/base64.hpp"

namespace starling::xmpp::sasl {
namespace {

using namespace std::string_literals;

const std::string salt16 = "0123456789abcdef";
const std::string exporter_data(32, '\x5a');
const std::string end_point_data(32, '\x3c');

ScramCredentials pencil(ScramHash hash = ScramHash::sha256) {
    return derive_scram_credentials(hash, "pencil", salt16, 4096);
}

ChannelBindings tls_bindings() {
    return {{"tls-exporter", exporter_data}, {"tls-server-end-point", end_point_data}};
}

// Runs a whole exchange; returns the server-final message or the server's failure. The
// client side must not fail here: the tests that need it to fail call it directly.
Result<std::string, SaslCondition> run_exchange(ScramServer& server, ScramClient& client,
                                                const ScramCredentials& credentials) {
    const auto first = server.client_first(client.client_first());
    if (!first.ok()) return Failure{first.error()};
    const auto final_message = client.client_final(server.server_first(credentials));
    if (!final_message.ok()) {
        ADD_FAILURE() << "client rejected server-first";
        return Failure{final_message.error()};
    }
    auto server_final = server.client_final(*final_message);
    if (server_final.ok()) {
        EXPECT_TRUE(client.verify_server_final(*server_final));
    }
    return server_final;
}

// A server that has sent "r=clientnonceSERVERNONCE,..." for user "user", ready for client-final.
ScramServer server_awaiting_client_final(ScramHash hash = ScramHash::sha256) {
    ScramServer server(hash, false, false, {});
    EXPECT_TRUE(server.client_first("n,,n=user,r=clientnonce").ok());
    server.server_first(pencil(hash), "SERVERNONCE");
    return server;
}

SaslCondition client_first_error(std::string_view message, bool plus = false,
                                 bool plus_offered = false) {
    ScramServer server(ScramHash::sha256, plus, plus_offered, tls_bindings());
    const auto result = server.client_first(message);
    EXPECT_FALSE(result.ok()) << message;
    return result.ok() ? SaslCondition::aborted : result.error();
}

SaslCondition client_final_error(std::string_view message) {
    auto server = server_awaiting_client_final();
    const auto result = server.client_final(message);
    EXPECT_FALSE(result.ok()) << message;
    return result.ok() ? SaslCondition::aborted : result.error();
}

std::string proof_b64(std::size_t size = 32) { return base64::encode(std::string(size, '\x01')); }

TEST(Scram, rfc5802_sha1_example_is_reproduced_byte_for_byte) {
    const auto salt = base64::decode("QSXCR+Q6sek8bf92");
    ASSERT_TRUE(salt);
    const auto credentials = derive_scram_credentials(ScramHash::sha1, "pencil", *salt, 4096);
    ScramClient client(ScramHash::sha1, "user", "pencil");
    ScramServer server(ScramHash::sha1, false, false, {});

    const auto client_first = client.client_first("fyko+d2lbbFgONRv9qkxdawL");
    EXPECT_EQ(client_first, "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    const auto first = server.client_first(client_first);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->authcid, "user");
    EXPECT_EQ(first->authzid, "");
    const auto server_first = server.server_first(credentials, "3rfcNHYJY1ZVvWVs7j");
    EXPECT_EQ(server_first,
              "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    const auto client_final = client.client_final(server_first);
    ASSERT_TRUE(client_final.ok());
    EXPECT_EQ(*client_final,
              "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
    const auto server_final = server.client_final(*client_final);
    ASSERT_TRUE(server_final.ok());
    EXPECT_EQ(*server_final, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
    EXPECT_TRUE(client.verify_server_final(*server_final));
}

TEST(Scram, cached_salted_password_gives_the_same_proof_and_is_used) {
    const auto salt = base64::decode("QSXCR+Q6sek8bf92");
    ASSERT_TRUE(salt);
    const std::string server_first = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
    const std::string expected = "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
    // The RFC 5802 §5 exchange's client-final message, with `cache`.
    auto client_final = [&](SaltedPasswordCache& cache, const std::string& password) {
        ScramClient client(ScramHash::sha1, "user", password);
        client.use_cache(&cache);
        client.client_first("fyko+d2lbbFgONRv9qkxdawL");
        const auto final_message = client.client_final(server_first);
        EXPECT_TRUE(final_message.ok());
        return final_message.ok() ? *final_message : std::string{};
    };
    SaltedPasswordCache cache;
    EXPECT_EQ(client_final(cache, "pencil"), expected);  // computed
    EXPECT_EQ(client_final(cache, "pencil"), expected);  // taken from the cache
    EXPECT_EQ(cache.size(), 1u);
    // Another password is another entry, never the first one's keys.
    EXPECT_NE(client_final(cache, "pencil2"), expected);
    EXPECT_EQ(cache.size(), 2u);
    // The cache is really consulted: a wrong entry gives a wrong proof.
    SaltedPasswordCache poisoned;
    poisoned.insert(SaltedPasswordCache::key_for(ScramHash::sha1, "pencil", *salt, 4096), std::string(20, 'x'));
    EXPECT_NE(client_final(poisoned, "pencil"), expected);
}

TEST(Scram, rfc7677_sha256_example_is_reproduced_byte_for_byte) {
    const auto salt = base64::decode("W22ZaJ0SNY7soEsUEjb6gQ==");
    ASSERT_TRUE(salt);
    const auto credentials = derive_scram_credentials(ScramHash::sha256, "pencil", *salt, 4096);
    ScramClient client(ScramHash::sha256, "user", "pencil");
    ScramServer server(ScramHash::sha256, false, false, {});

    const auto client_first = client.client_first("rOprNGfwEbeRWgbNEkqO");
    EXPECT_EQ(client_first, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    ASSERT_TRUE(server.client_first(client_first).ok());
    const auto server_first = server.server_first(credentials, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
    EXPECT_EQ(
        server_first,
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    const auto client_final = client.client_final(server_first);
    ASSERT_TRUE(client_final.ok());
    EXPECT_EQ(*client_final,
              "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
              "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    const auto server_final = server.client_final(*client_final);
    ASSERT_TRUE(server_final.ok());
    EXPECT_EQ(*server_final, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    EXPECT_TRUE(client.verify_server_final(*server_final));
}

TEST(Scram, sha512_exchange_with_random_nonces_succeeds) {
    const auto credentials = pencil(ScramHash::sha512);
    EXPECT_EQ(credentials.stored_key.size(), 64u);
    EXPECT_EQ(credentials.server_key.size(), 64u);
    ScramServer server(ScramHash::sha512, false, false, {});
    ScramClient client(ScramHash::sha512, "user", "pencil");
    EXPECT_TRUE(run_exchange(server, client, credentials).ok());
}

TEST(Scram, random_nonces_differ_between_exchanges) {
    ScramClient a(ScramHash::sha256, "user", "pencil");
    ScramClient b(ScramHash::sha256, "user", "pencil");
    EXPECT_NE(a.client_first(), b.client_first());
}

TEST(Scram, mechanism_names_round_trip) {
    for (auto hash : {ScramHash::sha1, ScramHash::sha256, ScramHash::sha512})
        for (bool plus : {false, true}) {
            const auto parsed = parse_scram_mechanism(scram_mechanism_name(hash, plus));
            ASSERT_TRUE(parsed);
            EXPECT_EQ(parsed->hash, hash);
            EXPECT_EQ(parsed->plus, plus);
        }
    EXPECT_EQ(scram_mechanism_name(ScramHash::sha256, true), "SCRAM-SHA-256-PLUS");
    EXPECT_FALSE(parse_scram_mechanism("SCRAM-SHA-384"));
    EXPECT_FALSE(parse_scram_mechanism("scram-sha-256"));
    EXPECT_FALSE(parse_scram_mechanism("PLAIN"));
}

TEST(Scram, wrong_password_fails_with_not_authorized) {
    ScramServer server(ScramHash::sha256, false, false, {});
    ScramClient client(ScramHash::sha256, "user", "pencil2");
    const auto result = run_exchange(server, client, pencil());
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error(), SaslCondition::not_authorized);
}

TEST(Scram, tls_exporter_binding_succeeds) {
    ScramServer server(ScramHash::sha256, true, true, tls_bindings());
    ScramClient client(ScramHash::sha256, "user", "pencil", "tls-exporter", exporter_data);
    const auto first = client.client_first("nonce");
    EXPECT_EQ(first, "p=tls-exporter,,n=user,r=nonce");
    ASSERT_TRUE(server.client_first(first).ok());
    const auto final_message = client.client_final(server.server_first(pencil(), "S"));
    ASSERT_TRUE(final_message.ok());
    // RFC 5802 §7: c= carries cbind-input, the gs2 header followed by the binding data.
    EXPECT_EQ(final_message->substr(0, final_message->find(',')),
              "c=" + base64::encode("p=tls-exporter,," + exporter_data));
    const auto server_final = server.client_final(*final_message);
    ASSERT_TRUE(server_final.ok());
    EXPECT_TRUE(client.verify_server_final(*server_final));
}

TEST(Scram, tls_server_end_point_binding_succeeds) {
    ScramServer server(ScramHash::sha1, true, true, tls_bindings());
    ScramClient client(ScramHash::sha1, "user", "pencil", "tls-server-end-point", end_point_data);
    EXPECT_TRUE(run_exchange(server, client, pencil(ScramHash::sha1)).ok());
}

TEST(Scram, wrong_channel_binding_data_fails_with_not_authorized) {
    ScramServer server(ScramHash::sha256, true, true, tls_bindings());
    // A man in the middle terminates TLS itself, so the client sees other binding data.
    ScramClient client(ScramHash::sha256, "user", "pencil", "tls-exporter", end_point_data);
    const auto result = run_exchange(server, client, pencil());
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error(), SaslCondition::not_authorized);
}

TEST(Scram, a_wrong_binding_fails_before_the_proof_so_it_tests_no_password) {
    ScramServer server(ScramHash::sha256, true, true, tls_bindings());
    ScramClient client(ScramHash::sha256, "user", "pencil", "tls-exporter", end_point_data);
    ASSERT_FALSE(run_exchange(server, client, pencil()).ok());
    EXPECT_FALSE(server.proof_checked());
}

TEST(Scram, a_wrong_password_fails_at_the_proof) {
    ScramServer server(ScramHash::sha256, true, true, tls_bindings());
    ScramClient client(ScramHash::sha256, "user", "not pencil", "tls-exporter", exporter_data);
    ASSERT_FALSE(run_exchange(server, client, pencil()).ok());
    EXPECT_TRUE(server.proof_checked());
}

TEST(Scram, binding_data_of_another_type_fails_with_not_authorized) {
    ScramServer server(ScramHash::sha256, true, true, tls_bindings());
    ScramClient client(ScramHash::sha256, "user", "pencil", "tls-server-end-point", exporter_data);
    const auto result = run_exchange(server, client, pencil());
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error(), SaslCondition::not_authorized);
}

TEST(Scram, y_flag_while_plus_offered_is_a_downgrade_and_not_authorized) {
    ScramServer server(ScramHash::sha256, false, true, tls_bindings());
    ScramClient client(ScramHash::sha256, "user", "pencil", {}, {}, {}, true);
    const auto first = client.client_first("nonce");
    EXPECT_EQ(first, "y,,n=user,r=nonce");
    const auto result = server.client_first(first);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error(), SaslCondition::not_authorized);
}

TEST(Scram, y_flag_when_plus_not_offered_succeeds) {
    ScramServer server(ScramHash::sha256, false, false, {});
    ScramClient client(ScramHash::sha256, "user", "pencil", {}, {}, {}, true);
    EXPECT_TRUE(run_exchange(server, client, pencil()).ok());
}

TEST(Scram, n_flag_while_plus_offered_succeeds) {
    ScramServer server(ScramHash::sha256, false, true, tls_bindings());
    ScramClient client(ScramHash::sha256, "user", "pencil");
    EXPECT_TRUE(run_exchange(server, client, pencil()).ok());
}

TEST(Scram, p_flag_on_non_plus_mechanism_is_malformed_request) {
    EXPECT_EQ(client_first_error("p=tls-exporter,,n=user,r=nonce", false, true),
              SaslCondition::malformed_request);
}

TEST(Scram, plus_mechanism_without_p_flag_is_malformed_request) {
    EXPECT_EQ(client_first_error("n,,n=user,r=nonce", true, true),
              SaslCondition::malformed_request);
    EXPECT_EQ(client_first_error("y,,n=user,r=nonce", true, true),
              SaslCondition::malformed_request);
}

TEST(Scram, unsupported_binding_type_is_not_authorized) {
    EXPECT_EQ(client_first_error("p=tls-unique,,n=user,r=nonce", true, true),
              SaslCondition::not_authorized);
    ScramServer no_tls(ScramHash::sha256, true, true, {});
    const auto result = no_tls.client_first("p=tls-exporter,,n=user,r=nonce");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error(), SaslCondition::not_authorized);
}

TEST(Scram, authzid_and_username_escapes_are_decoded) {
    ScramServer server(ScramHash::sha256, false, false, {});
    const auto first = server.client_first("n,a=ad=2Cmin=3D,n=us=3Der=2C,r=nonce");
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->authzid, "ad,min=");
    EXPECT_EQ(first->authcid, "us=er,");
}

TEST(Scram, client_escapes_names_and_exchange_with_authzid_succeeds) {
    ScramServer server(ScramHash::sha256, false, false, {});
    ScramClient client(ScramHash::sha256, "a,b=c", "pencil", {}, {}, "admin@example.com");
    const auto message = client.client_first("nonce");
    EXPECT_EQ(message, "n,a=admin@example.com,n=a=2Cb=3Dc,r=nonce");
    const auto first = server.client_first(message);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->authcid, "a,b=c");
    EXPECT_EQ(first->authzid, "admin@example.com");
    const auto final_message = client.client_final(server.server_first(pencil()));
    ASSERT_TRUE(final_message.ok());
    EXPECT_TRUE(server.client_final(*final_message).ok());
}

TEST(Scram, bad_saslname_escapes_are_malformed_request) {
    for (const char* message :
         {"n,,n=us=2cer,r=nonce", "n,,n=us=41er,r=nonce", "n,,n=user=,r=nonce",
          "n,,n=user=3,r=nonce", "n,a=ad=min,n=user,r=nonce", "n,a=,n=user,r=nonce"})
        EXPECT_EQ(client_first_error(message), SaslCondition::malformed_request) << message;
}

TEST(Scram, malformed_client_first_is_malformed_request) {
    for (const auto& message :
         {""s, "n"s, "n,,"s, "n,,n=user"s, "n,,r=nonce"s, "n,,n=,r=nonce"s, "n,,n=user,r="s,
          "n,,n=user,r=non\x7f"s, "n,,n=user,r=non ce"s, "x,,n=user,r=nonce"s, "N,,n=user,r=nonce"s,
          "p=,,n=user,r=nonce"s, "p=tls_exporter,,n=user,r=nonce"s, "n,b=x,n=user,r=nonce"s,
          "n,,n=us\0er,r=nonce"s, "n,,n=us\xc3r,r=nonce"s, "n,,n=user,r=nonce,"s,
          "n,,n=user,r=nonce,,x=1"s})
        EXPECT_EQ(client_first_error(message), SaslCondition::malformed_request) << message;
}

TEST(Scram, client_first_attributes_out_of_order_are_malformed_request) {
    EXPECT_EQ(client_first_error("n,,r=nonce,n=user"), SaslCondition::malformed_request);
    EXPECT_EQ(client_first_error(",n,n=user,r=nonce"), SaslCondition::malformed_request);
    EXPECT_EQ(client_first_error("n,,n=user,r=nonce,r=again"), SaslCondition::malformed_request);
}

TEST(Scram, mandatory_extension_is_malformed_request) {
    EXPECT_EQ(client_first_error("n,,m=ext,n=user,r=nonce"), SaslCondition::malformed_request);
    EXPECT_EQ(client_first_error("n,,n=user,r=nonce,m=ext"), SaslCondition::malformed_request);
}

TEST(Scram, unknown_optional_extensions_are_ignored) {
    ScramServer server(ScramHash::sha256, false, false, {});
    EXPECT_TRUE(server.client_first("n,,n=user,r=nonce,x=anything=goes,Z=\xc3\xa9").ok());
}

TEST(Scram, oversized_message_is_malformed_request) {
    EXPECT_EQ(client_first_error("n,,n=" + std::string(5000, 'u') + ",r=nonce"),
              SaslCondition::malformed_request);
    EXPECT_EQ(client_final_error("c=biws,r=clientnonceSERVERNONCE,x=" + std::string(5000, 'x') +
                                 ",p=" + proof_b64()),
              SaslCondition::malformed_request);
}

TEST(Scram, malformed_client_final_is_malformed_request) {
    const auto p = ",p=" + proof_b64();
    for (const auto& message :
         {""s, "c=biws"s, "c=biws,r=clientnonceSERVERNONCE"s, "r=clientnonceSERVERNONCE" + p,
          "c=biws" + p, "c=biws,r=clientnonceSERVERNONCE,p="s, "c=,r=clientnonceSERVERNONCE" + p,
          "c=biws,r=clientnonceSERVERNONCE,p=" + proof_b64(20),
          "c=biws,r=clientnonceSERVERNONCE,r=clientnonceSERVERNONCE" + p,
          "c=biws,r=clientnonceSERVERNONCE" + p + ",x=1",
          "c=biws,r=clientnonceSERVERNONCE,m=ext" + p})
        EXPECT_EQ(client_final_error(message), SaslCondition::malformed_request) << message;
}

TEST(Scram, client_final_attributes_out_of_order_are_malformed_request) {
    EXPECT_EQ(client_final_error("r=clientnonceSERVERNONCE,c=biws,p=" + proof_b64()),
              SaslCondition::malformed_request);
    EXPECT_EQ(client_final_error("c=biws,p=" + proof_b64() + ",r=clientnonceSERVERNONCE"),
              SaslCondition::malformed_request);
}

TEST(Scram, bad_base64_in_client_final_is_malformed_request) {
    EXPECT_EQ(client_final_error("c=biw,r=clientnonceSERVERNONCE,p=" + proof_b64()),
              SaslCondition::malformed_request);
    EXPECT_EQ(client_final_error("c=biws,r=clientnonceSERVERNONCE,p=" + proof_b64().substr(1)),
              SaslCondition::malformed_request);
    EXPECT_EQ(client_final_error("c=bi-s,r=clientnonceSERVERNONCE,p=" + proof_b64()),
              SaslCondition::malformed_request);
}

TEST(Scram, nonce_mismatch_in_client_final_is_not_authorized) {
    EXPECT_EQ(client_final_error("c=biws,r=clientnonceOTHER,p=" + proof_b64()),
              SaslCondition::not_authorized);
    EXPECT_EQ(client_final_error("c=biws,r=clientnonce,p=" + proof_b64()),
              SaslCondition::not_authorized);
}

TEST(Scram, gs2_header_mismatch_in_client_final_is_not_authorized) {
    EXPECT_EQ(client_final_error("c=" + base64::encode("y,,") +
                                 ",r=clientnonceSERVERNONCE,p=" + proof_b64()),
              SaslCondition::not_authorized);
}

TEST(Scram, second_client_final_after_failure_is_refused) {
    auto server = server_awaiting_client_final();
    const auto message = "c=biws,r=clientnonceSERVERNONCE,p=" + proof_b64();
    ASSERT_FALSE(server.client_final(message).ok());
    const auto again = server.client_final(message);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error(), SaslCondition::malformed_request);
}

TEST(Scram, fake_credentials_are_deterministic_per_user_and_secret) {
    const auto a = ScramServer::fake_credentials(ScramHash::sha256, "nobody", "secret");
    const auto b = ScramServer::fake_credentials(ScramHash::sha256, "nobody", "secret");
    EXPECT_EQ(a.salt, b.salt);
    EXPECT_EQ(a.stored_key, b.stored_key);
    EXPECT_EQ(a.server_key, b.server_key);
    EXPECT_EQ(a.iterations, 4096u);
    EXPECT_EQ(a.salt.size(), 16u);
    EXPECT_EQ(a.stored_key.size(), 32u);
    EXPECT_EQ(a.server_key.size(), 32u);
    EXPECT_NE(a.stored_key, a.server_key);
    EXPECT_NE(a.salt, ScramServer::fake_credentials(ScramHash::sha256, "somebody", "secret").salt);
    EXPECT_NE(a.salt, ScramServer::fake_credentials(ScramHash::sha256, "nobody", "other").salt);
    EXPECT_EQ(ScramServer::fake_credentials(ScramHash::sha1, "nobody", "").stored_key.size(), 20u);
}

TEST(Scram, fake_credentials_exchange_fails_with_not_authorized) {
    const auto fake = ScramServer::fake_credentials(ScramHash::sha256, "nobody", "secret");
    for (const char* password : {"", "pencil", "secret"}) {
        ScramServer server(ScramHash::sha256, false, false, {});
        ScramClient client(ScramHash::sha256, "nobody", password);
        const auto result = run_exchange(server, client, fake);
        ASSERT_FALSE(result.ok());
        EXPECT_EQ(result.error(), SaslCondition::not_authorized);
    }
}

SaslCondition client_error_on(std::string_view server_first) {
    ScramClient client(ScramHash::sha256, "user", "pencil");
    client.client_first("nonce");
    const auto result = client.client_final(server_first);
    EXPECT_FALSE(result.ok()) << server_first;
    return result.ok() ? SaslCondition::aborted : result.error();
}

TEST(Scram, client_rejects_malformed_server_first) {
    for (const char* message :
         {"", "r=nonceS,s=c2FsdA==", "r=nonceS,s=c2FsdA==,i=0", "r=nonceS,s=c2FsdA==,i=04096",
          "r=nonceS,s=c2FsdA==,i=-1", "r=nonceS,s=c2FsdA==,i=4294967296",
          "r=nonceS,s=c2FsdA=,i=4096", "r=nonceS,s=,i=4096", "s=c2FsdA==,r=nonceS,i=4096",
          "m=ext,r=nonceS,s=c2FsdA==,i=4096", "r=nonceS,s=c2FsdA==,i=4096,m=ext",
          "r=nonceS,s=c2FsdA==,i=4000000000"})
        EXPECT_EQ(client_error_on(message), SaslCondition::malformed_request) << message;
}

TEST(Scram, client_rejects_server_nonce_that_does_not_extend_its_own) {
    EXPECT_EQ(client_error_on("r=nonce,s=c2FsdA==,i=4096"), SaslCondition::not_authorized);
    EXPECT_EQ(client_error_on("r=otherS,s=c2FsdA==,i=4096"), SaslCondition::not_authorized);
    EXPECT_EQ(client_error_on("r=nonXeS,s=c2FsdA==,i=4096"), SaslCondition::not_authorized);
}

TEST(Scram, client_rejects_wrong_or_error_server_final) {
    ScramServer server(ScramHash::sha256, false, false, {});
    ScramClient client(ScramHash::sha256, "user", "pencil");
    ASSERT_TRUE(server.client_first(client.client_first()).ok());
    const auto final_message = client.client_final(server.server_first(pencil()));
    ASSERT_TRUE(final_message.ok());
    const auto server_final = server.client_final(*final_message);
    ASSERT_TRUE(server_final.ok());
    auto forged = *server_final;
    forged[2] = forged[2] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(client.verify_server_final(forged));
    EXPECT_FALSE(client.verify_server_final("e=invalid-proof"));
    EXPECT_FALSE(client.verify_server_final(""));
    EXPECT_TRUE(client.verify_server_final(*server_final + ",x=ext"));
}

}  // namespace
}  // namespace starling::xmpp::sasl
