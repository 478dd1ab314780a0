//! `spectrum`: the spectrum-rs node command.
//!
//! Parses the command line, sets up logging and runs one command; an error is printed as one
//! clear line (with its causes) and exits non-zero.

mod cli;
mod commands;
mod config_file;
mod datadir;
mod logging;
mod progress;

fn main() {
    let (cli, matches) = match config_file::parse() {
        Ok(parsed) => parsed,
        Err(error) => {
            eprintln!("Error: {error:#}");
            std::process::exit(1);
        }
    };
    if matches!(cli.command, Some(cli::Command::Dumpconfig)) {
        print!("{}", config_file::dump(&matches));
        return;
    }
    if let Err(error) = logging::init(cli.global.verbosity, &cli.ops) {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
    if let Err(error) = commands::run(cli) {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}
