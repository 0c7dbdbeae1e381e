//! Starts the tests' Docker engine and builds every stand-in base image it
//! lacks, so a test run does not pay for them: `.ci/run` calls it first.
//! Prints the engine's `DOCKER_HOST`.

fn main() {
    let started = std::time::Instant::now();
    let Some(engine) = test_support::docker_engine::engine() else {
        eprintln!("no Docker engine: nothing to prepare");
        std::process::exit(1);
    };
    if let Err(why) = test_support::docker_engine::ensure_images(
        &engine,
        &test_support::docker_engine::stand_in_names(),
    ) {
        eprintln!("{why}");
        std::process::exit(1);
    }
    eprintln!(
        "Docker engine and stand-in base images ready in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    println!("{}", engine.host);
}
