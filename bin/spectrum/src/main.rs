//! `spectrum`: the spectrum-rs node command.
//!
//! Parses the command line, sets up logging and runs one command; an error is printed as one
//! clear line (with its causes) and exits non-zero.

mod cli;
mod commands;
mod datadir;
mod logging;
mod progress;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    if let Err(error) = logging::init(cli.global.verbosity, &cli.ops) {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
    if let Err(error) = commands::run(cli) {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}
