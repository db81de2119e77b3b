// starling: the server binary. serve, check, user add|del|passwd|list|import, version.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "apps/starling/commands.hpp"
#include "base/log.hpp"
#include "server/modules/catalog.hpp"
#include "server/server.hpp"
#include "server/storage/database.hpp"

using namespace starling;

namespace {

int serve(const std::optional<std::filesystem::path>& config_path) {
    auto config = app::load_config(config_path);
    if (!config) return 2;
    log::set_level(config->server.log_level);
    try {
        server::Server server{std::move(*config), server::catalog()};
        server.start();
        for (const auto& l : server.listening()) log::info("listening on {}", l);
        server.run();
    } catch (const storage::DatabaseError& e) {
        log::error("storage: {}", e.what());
        return 1;
    } catch (const std::exception& e) {
        log::error("{}", e.what());
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    log::init();
    CLI::App app{"Starling, an XMPP server"};
    app.require_subcommand(1);
    std::optional<std::filesystem::path> config_path;
    auto add_config = [&](CLI::App* cmd) {
        cmd->add_option("-c,--config", config_path, "Configuration file (TOML); defaults apply without one");
    };

    auto* serve_cmd = app.add_subcommand("serve", "Run the server");
    add_config(serve_cmd);
    auto* check_cmd = app.add_subcommand("check", "Check the configuration, certificate and ports");
    add_config(check_cmd);
    app.add_subcommand("version", "Print the version");
    app.add_subcommand("config-example", "Print every setting with its default (starling.example.toml)");
    app.add_subcommand("compliance", "Print the table of RFCs and XEPs implemented (Markdown)");

    auto* user = app.add_subcommand("user", "Manage accounts (works with the server running or not)");
    user->require_subcommand(1);
    std::string name;
    auto* user_add = user->add_subcommand("add", "Create an account; the password is read from a prompt or stdin");
    user_add->add_option("user", name, "Username or bare JID")->required();
    auto* user_del = user->add_subcommand("del", "Delete an account");
    user_del->add_option("user", name, "Username or bare JID")->required();
    auto* user_passwd = user->add_subcommand("passwd", "Set an account's password (prompt or stdin)");
    user_passwd->add_option("user", name, "Username or bare JID")->required();
    auto* user_list = user->add_subcommand("list", "List the accounts (user@domain, one per line)");
    std::string list_domain;
    user_list->add_option("--domain", list_domain, "Only the accounts of this served domain");
    auto* user_import = user->add_subcommand(
        "import", "Create accounts from stdin, one \"username password\" per line (existing ones are kept)");
    for (auto* cmd : {user_add, user_del, user_passwd, user_list, user_import}) add_config(cmd);

    CLI11_PARSE(app, argc, argv);

    if (app.got_subcommand("version")) {
        std::cout << "starling " << STARLING_VERSION << "\n";
        return 0;
    }
    if (app.got_subcommand("config-example")) {
        std::cout << config::example(server::module_schemas());
        return 0;
    }
    if (app.got_subcommand("compliance")) return app::compliance();
    if (serve_cmd->parsed()) return serve(config_path);
    if (check_cmd->parsed()) return app::check(config_path);
    if (user->parsed()) {
        auto config = app::load_config(config_path);
        if (!config) return 2;
        try {
            if (user_add->parsed()) return app::user_add(*config, name);
            if (user_del->parsed()) return app::user_del(*config, name);
            if (user_passwd->parsed()) return app::user_passwd(*config, name);
            if (user_list->parsed()) return app::user_list(*config, list_domain);
            if (user_import->parsed()) return app::user_import(*config);
        } catch (const storage::DatabaseError& e) {
            std::cerr << "starling: storage: " << e.what() << "\n";
            return 1;
        }
    }
    return 0;
}
