//! The examples' shared contract: JSON on stdout, or a message on stderr and exit code 2.

use serde_json::Value;
use std::process::ExitCode;

/// Run `run` on the command-line arguments and print its JSON, or its error with code 2.
pub fn main_with(run: fn(&[String]) -> Result<Value, String>) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
