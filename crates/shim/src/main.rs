//! `berth-shim <state_dir>`: the per-container shim process. Everything is
//! in the library ([`berth_shim::server`]); berthd starts it through
//! [`berth_shim::spawn`], never by hand.

#![forbid(unsafe_code)]

fn main() {
    berth_runtime::exeseal::clear_marker();
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: berth-shim <state_dir>  (started by berthd)");
        std::process::exit(2);
    };
    std::process::exit(berth_shim::server::main(std::path::Path::new(&dir)));
}
