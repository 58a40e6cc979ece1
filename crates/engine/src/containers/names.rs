//! Container ids and names: 64 random hex digits, and Docker-style
//! `adjective_surname` names when the user gives none. Names are checked
//! against Docker's pattern.

/// Docker's rule for container names.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A new container id.
pub fn new_id() -> String {
    let mut bytes = [0u8; 32];
    random(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random(buf: &mut [u8]) {
    let mut filled = 0;
    while filled < buf.len() {
        match rustix::rand::getrandom(&mut buf[filled..], rustix::rand::GetRandomFlags::empty()) {
            Ok(n) => filled += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => panic!("getrandom failed: {e}"),
        }
    }
}

const ADJECTIVES: [&str; 40] = [
    "admiring",
    "agitated",
    "amazing",
    "bold",
    "brave",
    "busy",
    "calm",
    "clever",
    "cool",
    "dazzling",
    "eager",
    "elated",
    "epic",
    "festive",
    "focused",
    "friendly",
    "gallant",
    "gifted",
    "happy",
    "hopeful",
    "jolly",
    "keen",
    "kind",
    "loving",
    "lucid",
    "modest",
    "nifty",
    "nostalgic",
    "peaceful",
    "quirky",
    "relaxed",
    "serene",
    "sharp",
    "stoic",
    "tender",
    "upbeat",
    "vibrant",
    "wizardly",
    "youthful",
    "zealous",
];

const SURNAMES: [&str; 40] = [
    "agnesi", "babbage", "bohr", "cannon", "curie", "darwin", "dijkstra", "einstein", "euler",
    "faraday", "fermat", "feynman", "galileo", "gauss", "hamilton", "hopper", "hypatia", "johnson",
    "kepler", "knuth", "lamarr", "lovelace", "maxwell", "meitner", "mendel", "newton", "noether",
    "pascal", "planck", "ritchie", "sammet", "shannon", "tesla", "thompson", "torvalds", "turing",
    "volhard", "wozniak", "yalow", "zuse",
];

/// A random name; `attempt` > 0 appends a digit, as Docker does on clashes.
pub fn random_name(attempt: u32) -> String {
    let mut b = [0u8; 2];
    random(&mut b);
    let name = format!(
        "{}_{}",
        ADJECTIVES[b[0] as usize % ADJECTIVES.len()],
        SURNAMES[b[1] as usize % SURNAMES.len()]
    );
    if attempt == 0 {
        name
    } else {
        format!("{name}{}", b[0] % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names() {
        let id = new_id();
        assert_eq!(id.len(), 64);
        assert_ne!(id, new_id());
        assert!(valid_name(&random_name(0)));
        assert!(valid_name("a.b-c_1"));
        assert!(!valid_name("-a"));
        assert!(!valid_name("a/b"));
        assert!(!valid_name(""));
    }
}
