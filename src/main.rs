//! `laris`: parse the command line, load the config, start logging, run the subcommand.

use clap::Parser;

fn main() {
    // Files laris creates (the store, secrets, recordings, exports it writes) hold customers'
    // names and phones: readable by this user only.
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file-mode mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
    let cli = laris::cli::Cli::parse();
    let result = laris::cli::load_settings(&cli).and_then(|settings| {
        laris::cli::init_tracing(&settings);
        laris::cli::run(cli, settings)
    });
    if let Err(err) = result {
        eprintln!("laris: {err:#}");
        let code = match err.downcast_ref::<laris::cli::Incomplete>() {
            Some(_) => laris::cli::Incomplete::EXIT_CODE,
            None => 1,
        };
        std::process::exit(code);
    }
}
