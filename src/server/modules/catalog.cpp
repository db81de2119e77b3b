// Every compiled-in module, in start-up order. One explicit list: a module that is not here
// is not in the server (no static-initialisation registration that a linker may drop).
#include "server/modules/catalog.hpp"

#include "server/config/config.hpp"

namespace starling {
namespace disco { extern const server::ModuleInfo info; }
namespace ping { extern const server::ModuleInfo info; }
namespace version { extern const server::ModuleInfo info; }
namespace entity_time { extern const server::ModuleInfo info; }
namespace roster { extern const server::ModuleInfo info; }
namespace vcard { extern const server::ModuleInfo info; }
namespace private_xml { extern const server::ModuleInfo info; }
namespace offline { extern const server::ModuleInfo info; }
namespace last_activity { extern const server::ModuleInfo info; }
namespace registration { extern const server::ModuleInfo info; }
namespace blocking { extern const server::ModuleInfo info; }
namespace echo { extern const server::ModuleInfo info; }
namespace muc { extern const server::ModuleInfo info; }
namespace pubsub { extern const server::ModuleInfo info; }
namespace pep { extern const server::ModuleInfo info; }
}  // namespace starling

namespace starling::server {

const std::vector<const ModuleInfo*>& catalog() {
    static const std::vector<const ModuleInfo*> modules{
        &disco::info,
        &ping::info,
        &version::info,
        &entity_time::info,
        &roster::info,
        &vcard::info,
        &private_xml::info,
        &offline::info,
        &last_activity::info,
        &registration::info,
        &blocking::info,
        &echo::info,
        &muc::info,
        &pubsub::info,
        &pep::info,
    };
    return modules;
}

std::vector<config::ModuleSchema> module_schemas() { return module_schemas(catalog()); }

std::vector<config::ModuleSchema> module_schemas(const std::vector<const ModuleInfo*>& modules) {
    std::vector<config::ModuleSchema> out;
    for (const ModuleInfo* m : modules) out.push_back({std::string(m->name), m->enabled_by_default, m->options});
    return out;
}

}  // namespace starling::server
