#pragma once
// TestServer and TestClient: the whole server in-process, for fast tests of what a module or
// the core does, with no sockets, TLS or files. TestServer runs a real Server (every enabled
// module, in-memory SQLite, 1 or more shards on their own threads); TestClient is one client
// connection on a FakeChannel: the test writes XML as a client would and reads back what the
// server sent, element by element. All of it is called from the test's thread.
//
//     TestServer server{{.shards = 4}};
//     server.add_user("alice");
//     auto alice = server.login("alice", "phone");
//     alice->send("<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
//     auto pong = alice->expect(has_id("p1"));
//
// Waits have deadlines only to turn a hang into a failure; no test should assert on time.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/transport/testing/fake_channel.hpp"
#include "xml/element.hpp"

namespace starling::server {
class Server;
struct ModuleInfo;
}

namespace starling::server::testing {

using ElementMatch = std::function<bool(const xml::Element&)>;
// Matchers for expect(): by id, by element name (and type), by 'from'.
ElementMatch has_id(std::string id);
ElementMatch is(std::string name, std::string type = "*");
ElementMatch from(std::string jid);
ElementMatch all_of(std::vector<ElementMatch> matches);

inline constexpr std::string_view test_password = "correct horse battery staple";
inline constexpr std::chrono::milliseconds hang_guard{5000};

class TestClient {
public:
    TestClient(std::shared_ptr<FakeChannel> channel, std::string domain);
    ~TestClient();

    // Raw XML as the client would write it.
    void send(std::string xml);
    // The next element the server wrote (headers and the stream's end are skipped), or
    // nullopt if none came within `timeout`.
    std::optional<xml::Element> next(std::chrono::milliseconds timeout = hang_guard);
    // The first element, already received or still to come, that matches; throws
    // std::runtime_error saying what did come if none does in time.
    xml::Element expect(const ElementMatch& match, std::chrono::milliseconds timeout = hang_guard);
    // Everything that arrives until `quiet` passes with nothing new (to check that something
    // does not come: pair it with a round trip the server must answer after it).
    std::vector<xml::Element> drain(std::chrono::milliseconds quiet = std::chrono::milliseconds{50});
    // An iq with a fresh id; returns the answer (result or error).
    xml::Element query(std::string_view type, std::string_view to, std::string_view payload);
    // A ping to the server, answered after everything the server had for us before it.
    void sync();
    // The server ended the stream (its </stream:stream> came).
    bool closed(std::chrono::milliseconds timeout = hang_guard);
    void hang_up();

    // Steps of a login, for tests of the steps themselves.
    xml::Element open();  // header; returns <stream:features/>
    bool auth_plain(std::string_view username, std::string_view password);
    std::string bind(std::string_view resource);  // the bound full JID
    const std::string& jid() const { return jid_; }

private:
    bool pull(std::chrono::milliseconds timeout);

    std::shared_ptr<FakeChannel> channel_;
    std::string domain_;
    std::string jid_;
    std::vector<xml::Element> unread_;  // received, not yet returned by next() or expect()
    bool closed_ = false;
    std::uint64_t next_id_ = 0;
};

struct TestServerOptions {
    std::size_t shards = 1;
    std::string domain = "localhost";  // [server] domain (the first served domain)
    std::string config;  // TOML added to the defaults, e.g. "[modules.roster]\nmax_items = 3"
    // Modules a test brings (after the catalog's), enabled if enabled_by_default.
    std::vector<const ModuleInfo*> extra_modules;
};

class TestServer {
public:
    explicit TestServer(TestServerOptions options = {});
    ~TestServer();
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    Server& server() { return *server_; }
    const std::string& domain() const { return domain_; }
    // `user` is a username at the first domain, or user@domain for any served one.
    void add_user(std::string_view user, std::string_view password = test_password);
    // A new client connection to `domain` (default: the first), each on the next shard in
    // turn; nothing sent yet.
    std::unique_ptr<TestClient> connect(std::string_view domain = {});
    // Connected, authenticated (PLAIN) and bound as user/resource (`user` as in add_user).
    std::unique_ptr<TestClient> login(std::string_view user, std::string_view resource = "test",
                                      std::string_view password = test_password);

private:
    std::vector<const ModuleInfo*> catalog_;  // the Server keeps a reference
    std::unique_ptr<Server> server_;
    std::string domain_;
    std::thread runner_;
    std::size_t next_shard_ = 0;
};

}  // namespace starling::server::testing
