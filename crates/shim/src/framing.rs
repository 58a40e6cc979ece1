//! Docker's multiplexed stream framing (`stdcopy`): each chunk of stdout or
//! stderr behind an 8-byte header, `[stream, 0, 0, 0, len as u32 BE]`, with
//! stream 1 for stdout and 2 for stderr. The shim frames its streams so, and
//! berthd frames logs the same way and reads health-check output back.

/// Stream id of stdout.
pub const STDOUT: u8 = 1;
/// Stream id of stderr.
pub const STDERR: u8 = 2;

/// The header of a `len`-byte chunk of `stream`.
pub fn header(stream: u8, len: usize) -> [u8; 8] {
    let mut h = [stream, 0, 0, 0, 0, 0, 0, 0];
    h[4..].copy_from_slice(&(len as u32).to_be_bytes());
    h
}

/// The payloads of a framed stream, concatenated (a cut last frame keeps
/// what arrived).
pub fn payloads(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while raw.len() >= 8 {
        let len = u32::from_be_bytes([raw[4], raw[5], raw[6], raw[7]]) as usize;
        let end = (8 + len).min(raw.len());
        out.extend_from_slice(&raw[8..end]);
        raw = &raw[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let mut raw = header(STDOUT, 3).to_vec();
        raw.extend_from_slice(b"out");
        raw.extend_from_slice(&header(STDERR, 4));
        raw.extend_from_slice(b"err\n");
        assert_eq!(&raw[..8], &[1, 0, 0, 0, 0, 0, 0, 3]);
        assert_eq!(payloads(&raw), b"outerr\n");
    }
}
