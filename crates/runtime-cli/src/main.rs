//! `berth-runtime`: an OCI runtime whose command line is runc's, so that
//! dockerd, containerd and podman can drive it unchanged.

#![forbid(unsafe_code)]

mod args;
mod commands;
mod log;

use clap::Parser;

use args::Cli;

fn main() {
    berth_runtime::exeseal::clear_marker();
    let cli = Cli::parse();
    if cli.version {
        print!("{}", commands::version());
        return;
    }
    let Some(command) = &cli.command else {
        let _ = <Cli as clap::CommandFactory>::command().print_help();
        std::process::exit(1);
    };
    let logger = log::Logger::new(cli.log.as_deref(), cli.log_format, cli.debug);
    let code = match commands::dispatch(&cli, command, &logger) {
        Ok(code) => code,
        Err(e) => {
            // The full chain, outermost first, like runc's wrapped errors;
            // a cause its parent already quotes is not repeated.
            let mut msg = String::new();
            for cause in e.chain().map(|c| c.to_string()) {
                if msg.ends_with(&cause) {
                    continue;
                }
                if !msg.is_empty() {
                    msg.push_str(": ");
                }
                msg.push_str(&cause);
            }
            logger.error(&msg);
            1
        }
    };
    std::process::exit(code);
}
