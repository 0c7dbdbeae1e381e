//! PHP (Laravel and plain): Composer installs dependencies in its own image;
//! the PHP CLI image serves the app with PHP's built-in server, several
//! workers at once.

use super::node_version::node_image;
use super::php_version;
use super::{Image, Inputs, Text, exec_form};
use crate::InfraError;
use crate::bundle::app_files::AppFiles;
use crate::bundle::health::Probe;
use crate::bundle::images::COMPOSER;

/// Requests the built-in server handles in parallel.
const SERVER_WORKERS: u32 = 4;

pub(super) fn image(inputs: &Inputs) -> Result<Image, InfraError> {
    let files = inputs.files;
    let laravel = inputs.framework() == "laravel";
    let command = match inputs.command {
        Some(command) => command.to_owned(),
        None => {
            let docroot = if files.exists("public/index.php") {
                "public"
            } else {
                "."
            };
            format!("php -S 0.0.0.0:{} -t {docroot}", inputs.port)
        }
    };
    let composer = files.exists("composer.json");
    let what = if laravel {
        "Laravel app (PHP)"
    } else {
        "PHP app"
    };
    let mut text = Text::new(inputs, what);
    let source_stage = if composer {
        text.line(format!("FROM {COMPOSER} AS vendor"))
            .line("WORKDIR /app")
            .line("COPY composer.json composer.lock* ./")
            .line("RUN composer install --no-dev --no-scripts --no-autoloader --prefer-dist --no-interaction --ignore-platform-reqs")
            .line("COPY . .")
            .line("RUN composer dump-autoload --optimize --no-dev")
            .blank();
        Some("vendor")
    } else {
        None
    };
    let assets = laravel.then(|| front_end_build(files)).flatten();
    if let Some(assets) = &assets {
        // Blade's @vite reads public/build/manifest.json, mix() reads
        // public/mix-manifest.json: without it every page that loads the
        // app's scripts answers 500.
        let install = if files.exists("package-lock.json") {
            "npm ci"
        } else {
            "npm install"
        };
        let (node, _) = node_image(files);
        text.line(format!("FROM {node} AS assets"))
            .line("WORKDIR /app")
            .line("COPY . .");
        if assets.legacy_openssl {
            text.line("ENV NODE_OPTIONS=--openssl-legacy-provider");
        }
        text.line(format!("RUN {install} && {}", assets.command))
            .blank();
    }
    let (php, why) = php_version::choose(files);
    text.line(format!("FROM {php}"));
    if let Some(install) = database_extensions(inputs, laravel) {
        text.line(install);
    }
    text.line("RUN useradd --create-home --uid 10001 app")
        .app_dir("app");
    match source_stage {
        Some(stage) => text.line(format!("COPY --from={stage} --chown=app:app /app /app")),
        None => text.line("COPY --chown=app:app . ."),
    };
    if let Some(assets) = &assets {
        text.line(format!(
            "COPY --from=assets --chown=app:app /app/{0} ./{0}",
            assets.output
        ));
    }
    text.line(format!("ENV PHP_CLI_SERVER_WORKERS={SERVER_WORKERS}"));
    Ok(Image {
        dockerfile: text.finish(inputs, "app", &exec_form(&command)),
        probe: Probe::Php,
        ignore: &[
            "vendor",
            "node_modules",
            "storage/logs/*",
            "bootstrap/cache/*",
        ],
        extra_files: Vec::new(),
        context: None,
        notes: why.map(|why| format!("{why}.")).into_iter().collect(),
    })
}

/// The `RUN` installing the PHP extensions of the app's databases: MySQL's
/// for Laravel (its default connection) and any app on MySQL, PostgreSQL's
/// (with libpq) for one on PostgreSQL; the CLI image has neither.
fn database_extensions(inputs: &Inputs, laravel: bool) -> Option<String> {
    let uses = |kind: &str| inputs.analysis.datastores.iter().any(|d| d == kind);
    let mut extensions = Vec::new();
    if laravel || uses("mysql") {
        extensions.push("pdo_mysql");
    }
    if !laravel && uses("mysql") {
        extensions.push("mysqli");
    }
    if !uses("postgres") {
        return (!extensions.is_empty())
            .then(|| format!("RUN docker-php-ext-install {}", extensions.join(" ")));
    }
    extensions.push("pdo_pgsql");
    if !laravel {
        extensions.push("pgsql");
    }
    Some(format!(
        "RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && docker-php-ext-install {} && rm -rf /var/lib/apt/lists/*",
        extensions.join(" ")
    ))
}

/// How a Laravel app's front-end assets are built.
struct FrontEndBuild {
    command: &'static str,
    /// What the build writes, copied into the image.
    output: &'static str,
    /// Webpack 4 (Laravel Mix before 6) hashes with MD4, which the OpenSSL
    /// 3 of Node 17 and later refuses unless told to load its legacy
    /// provider.
    legacy_openssl: bool,
}

/// Vite (`npm run build` with laravel-vite-plugin), as Laravel's starter
/// kits since 9.x do, or Laravel Mix (`npm run production`), as the ones
/// before did: its output and `mix-manifest.json` land in `public/`.
fn front_end_build(files: &AppFiles) -> Option<FrontEndBuild> {
    if files.npm_script("build").is_some() && files.depends_on("laravel-vite-plugin") {
        return Some(FrontEndBuild {
            command: "npm run build",
            output: "public/build",
            legacy_openssl: false,
        });
    }
    if !files.depends_on("laravel-mix") {
        return None;
    }
    let command = ["production", "prod", "build"]
        .into_iter()
        .find(|script| files.npm_script(script).is_some())
        .map_or("npx mix --production", |script| match script {
            "production" => "npm run production",
            "prod" => "npm run prod",
            _ => "npm run build",
        });
    Some(FrontEndBuild {
        command,
        output: "public",
        legacy_openssl: mix_major(files).is_some_and(|major| major < 6),
    })
}

/// The major version package.json asks of laravel-mix (`^5.0.1` → 5).
fn mix_major(files: &AppFiles) -> Option<u32> {
    let package = files.package_json()?;
    let range = ["dependencies", "devDependencies"]
        .iter()
        .find_map(|field| package.get(*field)?.get("laravel-mix")?.as_str())?;
    let digits: String = range
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}
