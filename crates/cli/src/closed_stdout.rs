//! A report piped into a reader that stops early (`deployflow analyse … | head`)
//! ends the process quietly, as a Unix tool killed by SIGPIPE does, instead of
//! panicking in `println!`. Rust ignores SIGPIPE, so the write fails with
//! EPIPE and `println!` panics with "failed printing to stdout".

/// The exit status of a process ended by SIGPIPE (128 + 13).
const CLOSED_PIPE_STATUS: i32 = 141;

/// Installs a panic hook that turns a failed print to a closed stdout into
/// a quiet exit; every other panic goes to the hook that was there.
pub fn end_quietly_when_stdout_closes() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if is_closed_stdout(panic_message(info)) {
            std::process::exit(CLOSED_PIPE_STATUS);
        }
        previous(info);
    }));
}

fn panic_message<'a>(info: &'a std::panic::PanicHookInfo<'_>) -> &'a str {
    let payload = info.payload();
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("")
}

/// std's own wording: "failed printing to stdout: Broken pipe (os error 32)".
fn is_closed_stdout(message: &str) -> bool {
    message.starts_with("failed printing to stdout") && message.contains("os error 32")
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_print_to_a_closed_stdout_is_recognised() {
        assert!(super::is_closed_stdout(
            "failed printing to stdout: Broken pipe (os error 32)"
        ));
        assert!(!super::is_closed_stdout(
            "failed printing to stdout: No space left on device (os error 28)"
        ));
        assert!(!super::is_closed_stdout("index out of bounds"));
    }
}
