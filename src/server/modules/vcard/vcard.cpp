// XEP-0054 vcard-temp: an account's vCard, stored whole as serialized XML (a KeyValue store,
// "vcard", owned by the account). Anyone may read it (§5: it is world-readable); only the account
// itself may replace it (§3.2). Handlers run on the account's owner shard; the store runs
// on the storage thread.
#include <optional>
#include <string>

#include "base/log.hpp"
#include "server/config/config.hpp"
#include "server/module/module.hpp"
#include "xml/parse_element.hpp"
#include "xml/writer.hpp"

namespace starling::vcard {

using namespace server;
using xmpp::StanzaErrorCondition;

namespace {

constexpr std::string_view vcard_ns = "vcard-temp";

bool own_account(const IqRequest& r) { return r.from().bare() == r.stanza().to()->bare(); }

}  // namespace

class VcardModule final : public Module {
public:
    explicit VcardModule(ModuleContext& ctx)
        : vcards_{ctx.key_value("vcard")}, max_depth_{ctx.config().limits.max_depth} {
        // §4: "vcard-temp" in disco#info.
        ctx.disco().add_feature(vcard_ns);
        ctx.disco().add_feature(vcard_ns, To::account);
        ctx.iq().on_get(vcard_ns, "vCard", To::account, [this](IqRequest& r) { return get(r); });
        ctx.iq().on_set(vcard_ns, "vCard", To::account, [this](IqRequest& r) { return set(r); });
    }

private:
    Task<void> get(IqRequest& request) {
        const xmpp::BareJid account = request.stanza().to()->bare();
        stores::Owner owner = stores::Owner::of(account);
        std::optional<std::string> stored = co_await vcards_.get(std::move(owner));
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
            log::error("vcard: the stored vCard of {} does not parse", account.str());
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
        const stores::Owner owner = stores::Owner::of(request.stanza().to()->bare());
        const xml::Element& vcard = request.payload();
        // §3.2: a set replaces the whole vCard. An empty one removes it, so others then get
        // the same answer as for an account that never published one (§3.3).
        bool remove = vcard.child_element_count() == 0;
        if (remove) {
            co_await vcards_.remove(owner);
        } else {
            std::string text = xml::to_string(vcard);  // declares xmlns='vcard-temp' itself
            co_await vcards_.set(owner, std::move(text));
        }
        request.reply();
    }

    stores::KeyValue vcards_;
    std::size_t max_depth_;  // the stanza depth limit: stored elements were within it
};

extern const ModuleInfo info{
    .name = "vcard",
    .description = "Stores each account's vCard and hands it to anyone who asks",
    .xeps = {{54, "1.3.0", "vcard-temp"}},
    .create = create_module<VcardModule>,
};

}  // namespace starling::vcard
