// XEP-0054 vcard-temp: an account's vCard, stored whole as serialized XML (KeyValueStore,
// store "vcard", key ""). Anyone may read it (§5: it is world-readable); only the account
// itself may replace it (§3.2). Handlers run on the account's owner shard; the store runs
// on the storage thread. The module holds no state of its own.
#include <optional>
#include <string>

#include "base/log.hpp"
#include "server/config/config.hpp"
#include "server/module/module.hpp"
#include "server/storage/keyval/key_value_store.hpp"
#include "server/storage/storage_thread.hpp"
#include "xml/parse_element.hpp"
#include "xml/writer.hpp"

namespace starling::vcard {

using namespace server;
using xmpp::StanzaErrorCondition;

namespace {

constexpr std::string_view vcard_ns = "vcard-temp";
constexpr std::string_view store_name = "vcard";
constexpr std::string_view key = "";

bool own_account(const IqRequest& r) { return r.from().bare() == r.stanza().to()->bare(); }

}  // namespace

class VcardModule final : public Module {
public:
    explicit VcardModule(ModuleContext& ctx) : ctx_{ctx}, max_depth_{ctx.config().limits.max_depth} {
        // §4: "vcard-temp" in disco#info.
        ctx.disco().add_feature(vcard_ns);
        ctx.disco().add_feature(vcard_ns, To::account);
        ctx.iq().on_get(vcard_ns, "vCard", To::account, [this](IqRequest& r) { return get(r); });
        ctx.iq().on_set(vcard_ns, "vCard", To::account, [this](IqRequest& r) { return set(r); });
    }

private:
    Task<void> get(IqRequest& request) {
        std::string user{request.stanza().to()->local()};
        auto load = [user](storage::Database& db) { return storage::KeyValueStore{db}.get(store_name, user, key); };
        std::optional<std::string> stored = co_await ctx_.storage().run(std::move(load));
        if (!stored) {
            // §3.1 allows item-not-found or an empty <vCard/> for one's own missing vCard. We
            // answer the empty vCard: it is the same answer as after publishing an empty one,
            // and clients that treat any error as a failed request (and retry or report it)
            // then simply show a blank profile.
            // §3.3 (since 1.3): for others, no vCard and no account MUST get the same error,
            // service-unavailable (RFC 6121 §8.5.1), so a vCard get harvests no accounts.
            if (own_account(request))
                request.reply(xml::Element{"vCard", std::string(vcard_ns)});
            else
                request.error(StanzaErrorCondition::service_unavailable);
            co_return;
        }
        auto vcard = xml::parse_element(*stored, max_depth_);
        if (!vcard) {
            log::error("vcard: the stored vCard of {} does not parse", user);
            request.error(StanzaErrorCondition::internal_server_error);
            co_return;
        }
        request.reply(std::move(*vcard));
    }

    Task<void> set(IqRequest& request) {
        // §3.2: another user's vCard SHOULD get forbidden or not-allowed.
        if (!own_account(request)) {
            request.error(StanzaErrorCondition::forbidden);
            co_return;
        }
        std::string user{request.stanza().to()->local()};
        const xml::Element& vcard = request.payload();
        // §3.2: a set replaces the whole vCard. An empty one removes it, so others then get
        // the same answer as for an account that never published one (§3.3).
        bool remove = vcard.child_element_count() == 0;
        // An empty WriteContext: the stored text declares xmlns='vcard-temp' itself.
        std::string text = remove ? std::string{} : xml::to_string(vcard);
        auto save = [user, remove, text = std::move(text)](storage::Database& db) {
            storage::KeyValueStore store{db};
            if (remove)
                store.remove(store_name, user, key);
            else
                store.set(store_name, user, key, text);
            return true;
        };
        co_await ctx_.storage().run(std::move(save));
        request.reply();
    }

    ModuleContext& ctx_;
    std::size_t max_depth_;  // the stanza depth limit: stored elements were within it
};

extern const ModuleInfo info{
    .name = "vcard",
    .description = "Stores each account's vCard and hands it to anyone who asks",
    .xeps = {{54, "1.3.0", "vcard-temp"}},
    .create = create_module<VcardModule>,
    .remove_account = [](storage::Database& db, std::string_view username) {
        storage::KeyValueStore{db}.remove(store_name, username, key);
    },
};

}  // namespace starling::vcard
