//! The `bidline` binary: everything it does is in the library (see `lib.rs`).

fn main() -> std::process::ExitCode {
    bidline::run()
}
