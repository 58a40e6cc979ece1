//! OCI seccomp profiles: validation, compilation to BPF, caching, installation.
