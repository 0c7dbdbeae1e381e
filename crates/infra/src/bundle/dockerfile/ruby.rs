//! Ruby (Rails, Sinatra, Rack): gems compiled in a build stage with the
//! toolchain, copied into a slim final stage without it.

use super::{Image, Inputs, Text, exec_form};
use crate::InfraError;
use crate::bundle::health::Probe;
use crate::bundle::images::RUBY;

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
    let mut text = Text::new(inputs, &what);
    text.line(format!("FROM {RUBY} AS build"))
        .line("RUN apt-get update && apt-get install -y --no-install-recommends build-essential git libpq-dev libyaml-dev && rm -rf /var/lib/apt/lists/*")
        .line("WORKDIR /app")
        .line(&bundle_env)
        .line(if locked { "COPY Gemfile Gemfile.lock ./" } else { "COPY Gemfile ./" })
        .line("RUN bundle install")
        .line("COPY . .");
    if rails && files.dir_exists("app/assets") {
        text.line(
            "RUN SECRET_KEY_BASE_DUMMY=1 RAILS_ENV=production bundle exec rails assets:precompile",
        );
    }
    text.blank()
        .line(format!("FROM {RUBY}"))
        .line("RUN apt-get update && apt-get install -y --no-install-recommends libpq5 libyaml-0-2 && rm -rf /var/lib/apt/lists/* && useradd --create-home --uid 10001 app")
        .app_dir("app")
        .line(&bundle_env)
        .line("ENV RACK_ENV=production RAILS_ENV=production RAILS_LOG_TO_STDOUT=1 RAILS_SERVE_STATIC_FILES=1")
        .line("COPY --from=build /usr/local/bundle /usr/local/bundle")
        .line("COPY --from=build --chown=app:app /app /app");
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
        notes: Vec::new(),
    })
}
