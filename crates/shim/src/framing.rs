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
pub fn payloads(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Deframer::default().push(raw, &mut out);
    out
}

/// Strips the framing from a stream that arrives in pieces cut anywhere
/// (a header may straddle two reads).
#[derive(Debug, Default)]
pub struct Deframer {
    header: Vec<u8>,
    /// Payload bytes still to come in the current frame.
    left: usize,
}

impl Deframer {
    /// Appends the payload bytes of `input` to `out`.
    pub fn push(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            if self.left > 0 {
                let n = self.left.min(input.len());
                out.extend_from_slice(&input[..n]);
                self.left -= n;
                input = &input[n..];
                continue;
            }
            let need = 8 - self.header.len();
            let n = need.min(input.len());
            self.header.extend_from_slice(&input[..n]);
            input = &input[n..];
            if self.header.len() == 8 {
                let h = &self.header;
                self.left = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
                self.header.clear();
            }
        }
    }
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
        // cut anywhere, headers included
        for cut in 0..raw.len() {
            let mut d = Deframer::default();
            let mut out = Vec::new();
            d.push(&raw[..cut], &mut out);
            d.push(&raw[cut..], &mut out);
            assert_eq!(out, b"outerr\n", "cut at {cut}");
        }
    }
}
