//! Ruby (Rails, Sinatra, Rack): gems compiled in a build stage with the
//! toolchain, copied into a slim final stage without it.

use super::{Image, Inputs, Text, exec_form};
use crate::InfraError;
use crate::bundle::app_files::AppFiles;
use crate::bundle::health::Probe;
use crate::bundle::images::{ARCHIVED_DEBIAN, RUBY};

pub(super) fn image(inputs: &Inputs) -> Result<Image, InfraError> {
    let command = inputs.require_command()?;
    let files = inputs.files;
    let rails = inputs.framework() == "rails";
    let locked = files.exists("Gemfile.lock");
    let deployment = if locked { " BUNDLE_DEPLOYMENT=1" } else { "" };
    let bundle_env =
        format!("ENV BUNDLE_PATH=/usr/local/bundle BUNDLE_WITHOUT=development:test{deployment}");
    let what = match inputs.framework() {
        "" => "a Ruby HTTP app".to_owned(),
        framework => format!("{framework} app (Ruby)"),
    };
    // Images of Rubies older than 3.1 (December 2021) may be built on a
    // Debian release past its end of life.
    let old_ruby = ruby_version(files).is_some_and(|(version, _)| {
        let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) < (3, 1)
    });
    let (ruby, note) = match ruby_version(files) {
        Some((version, why)) => (
            format!("ruby:{version}-slim"),
            Some(format!("Ruby {version}: {why}.")),
        ),
        None => (RUBY.to_owned(), None),
    };
    let rails_version = files.locked_gem("rails");
    let precompiles = rails && files.dir_exists("app/assets");
    // ExecJS (uglifier, autoprefixer-rails, coffee-rails) needs a
    // JavaScript runtime to compile assets unless a gem embeds one.
    let execjs = precompiles
        && files.locked_gem("execjs").is_some()
        && files.locked_gem("mini_racer").is_none()
        && files.locked_gem("therubyracer").is_none();
    let mut notes: Vec<String> = note.into_iter().collect();
    if execjs {
        notes.push("Gemfile.lock has ExecJS and no embedded JavaScript runtime: the build stage installs Node.js so `assets:precompile` can run.".to_owned());
    }
    let archive = if old_ruby {
        notes.push("The image of an older Ruby may be built on a Debian release past its end of life (jessie, stretch, buster), whose packages only archive.debian.org still serves: apt reads them there when it is.".to_owned());
        ARCHIVED_DEBIAN
    } else {
        ""
    };
    // Gems that compile against a C library (those without a prebuilt
    // gem for the platform): its headers to build, the library to run.
    let (mut headers, mut libraries) = (String::new(), String::new());
    for (gem, dev, runtime) in NATIVE_GEMS {
        if files.locked_gem(gem).is_some() {
            headers.push_str(&format!(" {dev}"));
            libraries.push_str(&format!(" {runtime}"));
            notes.push(format!(
                "The `{gem}` gem compiles against {runtime}: the build stage installs {dev}, the image {runtime}."
            ));
        }
    }
    let mut text = Text::new(inputs, &what);
    text.line(format!("FROM {ruby} AS build"))
        .line(format!(
            "RUN {archive}apt-get update && apt-get install -y --no-install-recommends build-essential git libpq-dev libyaml-dev{headers}{} && rm -rf /var/lib/apt/lists/*",
            if execjs { " nodejs" } else { "" }
        ))
        .line("WORKDIR /app")
        .line(&bundle_env)
        .line(if locked { "COPY Gemfile Gemfile.lock ./" } else { "COPY Gemfile ./" })
        .line("RUN bundle install")
        .line("COPY . .");
    if precompiles {
        // `SECRET_KEY_BASE_DUMMY` came with Rails 7.1; before it a
        // production boot needs some secret to precompile with.
        let secret = match rails_version {
            Some(version) if version < (7, 1) => "SECRET_KEY_BASE=assets-precompile-only",
            _ => "SECRET_KEY_BASE_DUMMY=1",
        };
        text.line(format!(
            "RUN {secret} RAILS_ENV=production bundle exec rails assets:precompile"
        ));
    }
    text.blank()
        .line(format!("FROM {ruby}"))
        .line(format!("RUN {archive}apt-get update && apt-get install -y --no-install-recommends libpq5 libyaml-0-2{libraries} && rm -rf /var/lib/apt/lists/* && useradd --create-home --uid 10001 app"))
        .app_dir("app")
        .line(&bundle_env)
        .line("ENV RACK_ENV=production RAILS_ENV=production RAILS_LOG_TO_STDOUT=1 RAILS_SERVE_STATIC_FILES=1")
        .line("COPY --from=build /usr/local/bundle /usr/local/bundle")
        .line("COPY --from=build --chown=app:app /app /app")
        // Puma's and Rails' pid and log folders, which the ignore rules
        // leave empty and git does not keep.
        .line("RUN mkdir -p tmp/pids tmp/cache tmp/sockets log && chown -R app:app tmp log");
    Ok(Image {
        dockerfile: text.finish(inputs, "app", &exec_form(command)),
        probe: Probe::Ruby,
        ignore: &[
            "log/*",
            "tmp/*",
            "vendor/bundle",
            "node_modules",
            "storage/*",
        ],
        extra_files: Vec::new(),
        context: None,
        notes,
    })
}

/// Gems that build against a C library: (gem, its headers' package, the
/// library's package).
const NATIVE_GEMS: &[(&str, &str, &str)] = &[
    ("sqlite3", "libsqlite3-dev", "libsqlite3-0"),
    ("mysql2", "default-libmysqlclient-dev", "libmariadb3"),
];

/// The Ruby the app declares, with where: Bundler refuses to install for
/// another than the Gemfile's `ruby "3.2.2"` (or `ruby file:
/// ".ruby-version"`, or the lock's `RUBY VERSION`), and `.ruby-version` is
/// the one its developers run.
fn ruby_version(files: &AppFiles) -> Option<(String, &'static str)> {
    let release = |text: &str| {
        let version = text.trim().trim_start_matches("ruby-");
        regex::Regex::new(r"^\d+\.\d+(?:\.\d+)?$")
            .expect("valid pattern")
            .is_match(version)
            .then(|| version.to_owned())
    };
    let gemfile = files.text("Gemfile").unwrap_or_default();
    let declared =
        regex::Regex::new(r#"(?m)^\s*ruby\s+["'](\d+\.\d+\.\d+)["']"#).expect("valid pattern");
    if let Some(version) = declared.captures(gemfile).and_then(|c| release(&c[1])) {
        return Some((
            version,
            "the Gemfile asks for it, and Bundler installs for no other",
        ));
    }
    let lock =
        regex::Regex::new(r"(?m)^RUBY VERSION\s*\n\s*ruby (\d+\.\d+\.\d+)").expect("valid pattern");
    if let Some(version) = files
        .text("Gemfile.lock")
        .and_then(|text| lock.captures(text))
        .and_then(|c| release(&c[1]))
    {
        return Some((
            version,
            "Gemfile.lock's RUBY VERSION, which Bundler holds the image to",
        ));
    }
    let version = files.text(".ruby-version").and_then(release)?;
    Some((version, "the repository's .ruby-version"))
}
