//! `laris`: parse the command line, load the config, start logging, run the subcommand.

use clap::Parser;

fn main() {
    let cli = laris::cli::Cli::parse();
    let result = laris::cli::load_settings(&cli).and_then(|settings| {
        laris::cli::init_tracing(&settings);
        laris::cli::run(cli, settings)
    });
    if let Err(err) = result {
        eprintln!("laris: {err:#}");
        std::process::exit(1);
    }
}
