//! The deterministic detectors: which directories hold apps, what each app
//! is, and the facts about the one to deploy.

mod assemble;
mod command;
mod datastores;
mod deny;
mod detection;
mod docker;
mod dotnet;
mod env;
mod env_frameworks;
mod env_guards;
mod env_helpers;
mod env_kind;
mod env_schema;
mod env_sdks;
mod go;
mod js_runtimes;
mod jvm;
mod jvm_config;
mod node;
mod node_listen;
mod node_ssr;
mod other;
mod package_json;
mod php;
mod pick;
mod python;
mod python_deps;
mod python_servers;
mod routes;
mod routes_node;
mod ruby;
mod rust_lang;
mod scan;
mod served_frontend;
mod value;
mod view;
mod yaml;

pub use datastores::declares_prisma_models;
pub use docker::{ends_by_running_its_arguments, is_development_dockerfile, is_dockerfile};
pub use env::is_secret;
pub use env_kind::variable_kind;

use detection::{Detection, Kind};
use view::AppView;

use crate::facts::Analysis;
use crate::requirements::Requirements;
use crate::snapshot::Snapshot;

/// One app candidate with what its best detector concluded.
pub(crate) struct App<'s> {
    pub view: AppView<'s>,
    pub detection: Detection,
}

type Detector = fn(&AppView<'_>) -> Option<Detection>;

/// Tried on every app directory; on a tie the earlier one wins.
const DETECTORS: &[Detector] = &[
    python::detect,
    js_runtimes::deno,
    js_runtimes::bun,
    node::detect,
    go::detect,
    rust_lang::detect,
    jvm::detect,
    ruby::detect,
    php::detect,
    dotnet::detect,
    other::swift_server,
    other::elixir,
    other::mobile,
];

pub(crate) fn analyse(snapshot: &Snapshot, requirements: &Requirements) -> Analysis {
    let named = requirements
        .app_dir
        .as_deref()
        .and_then(|dir| view::existing_dir(snapshot, dir));
    let docker = docker::scan(snapshot, named.as_deref());
    let apps: Vec<App<'_>> = view::app_views(snapshot, named.as_deref())
        .into_iter()
        .filter_map(detect_app)
        .collect();
    match pick::choose(&apps, requirements, named.as_deref()) {
        Some((chosen, note)) => {
            let mut analysis = assemble::build(snapshot, &docker, &apps, chosen, note);
            analysis.app_dir_named = named.as_deref().is_some_and(|dir| {
                analysis.subdir == dir || analysis.subdir.starts_with(&format!("{dir}/"))
            });
            analysis
        }
        None => assemble::nothing(&docker),
    }
}

fn detect_app(view: AppView<'_>) -> Option<App<'_>> {
    let mut best: Option<Detection> = None;
    // Equal ranks: a language its manifest names (`go.mod`) wins over one
    // only loose sources show (a stray `app.py` beside a Go service).
    let key = |d: &Detection| (d.rank(), !d.language_at.detail.ends_with(" source"));
    for detector in DETECTORS {
        if let Some(d) = detector(&view)
            && best.as_ref().is_none_or(|b| key(&d) > key(b))
        {
            best = Some(d);
        }
    }
    // Plain HTML counts only where nothing else explains the directory: an
    // Electron app or a Flask app has HTML too.
    if best.as_ref().is_none_or(|b| b.kind == Kind::Unknown)
        && let Some(site) = other::static_site(&view)
    {
        best = Some(site);
    }
    best.map(|detection| App { view, detection })
}
