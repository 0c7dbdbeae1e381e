//! Starts the tests' Docker engine and builds every stand-in base image it
//! lacks, so a test run does not pay for them: `.ci/run` calls it first.
//! Prints the engine's `DOCKER_HOST`. With `--prune`, instead removes what
//! the tests left on the engine (containers, images other than the stand-ins,
//! the build cache) and prints what the engine still holds.

use test_support::docker_engine;

fn main() {
    let started = std::time::Instant::now();
    let Some(engine) = docker_engine::engine() else {
        eprintln!("no Docker engine: nothing to prepare");
        std::process::exit(1);
    };
    if std::env::args().nth(1).as_deref() == Some("--prune") {
        match docker_engine::prune(&engine) {
            Ok(usage) => println!("{usage}"),
            Err(why) => {
                eprintln!("{why}");
                std::process::exit(1);
            }
        }
        return;
    }
    if let Err(why) = docker_engine::ensure_images(&engine, &docker_engine::stand_in_names()) {
        eprintln!("{why}");
        std::process::exit(1);
    }
    eprintln!(
        "Docker engine and stand-in base images ready in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    println!("{}", engine.host);
}
