//! cgroup management for Berth containers (v1, v2 and hybrid hosts).
