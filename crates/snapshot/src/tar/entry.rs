//! One archive member as the extractor and the diff writer see it, after GNU and PAX extension
//! headers have been folded into it.

/// A point in time as tar stores it: seconds since the epoch (may be negative) and nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    pub secs: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub nanos: u32,
}

/// The kind of an archive member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (type `0`, `\0` or `7`); its data follows the header.
    File,
    /// A hard link (type `1`) to the earlier member named by [`Entry::link`].
    HardLink,
    /// A symbolic link (type `2`) whose target is [`Entry::link`].
    Symlink,
    /// A character device (type `3`).
    CharDevice,
    /// A block device (type `4`).
    BlockDevice,
    /// A directory (type `5`, or an old-style regular entry whose name ends in `/`).
    Directory,
    /// A named pipe (type `6`).
    Fifo,
}

impl EntryKind {
    /// The USTAR type flag of this kind.
    pub fn type_flag(self) -> u8 {
        match self {
            EntryKind::File => b'0',
            EntryKind::HardLink => b'1',
            EntryKind::Symlink => b'2',
            EntryKind::CharDevice => b'3',
            EntryKind::BlockDevice => b'4',
            EntryKind::Directory => b'5',
            EntryKind::Fifo => b'6',
        }
    }
}

/// One member of a tar archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// What the member is.
    pub kind: EntryKind,
    /// Its name as stored (PAX `path`, else GNU long name, else USTAR prefix + name), raw bytes.
    pub path: Vec<u8>,
    /// Link target for hard and symbolic links (PAX `linkpath`, else GNU long link, else
    /// the header's link name); empty otherwise.
    pub link: Vec<u8>,
    /// Bytes of data that follow the header: the file size for regular files, 0 for every
    /// other kind (their size field is ignored, as Go's `archive/tar` does).
    pub size: u64,
    /// Permission bits with setuid, setgid and sticky (`0o7777`).
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
    /// Modification time.
    pub mtime: Timestamp,
    /// Access time, when the archive records one (PAX `atime`, GNU header).
    pub atime: Option<Timestamp>,
    /// Device major number (devices only).
    pub dev_major: u32,
    /// Device minor number (devices only).
    pub dev_minor: u32,
    /// Extended attributes (`SCHILY.xattr.<name>` PAX records), in archive order.
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Entry {
    /// A member of `kind` named `path` with everything else zero.
    pub fn new(kind: EntryKind, path: impl Into<Vec<u8>>) -> Entry {
        Entry {
            kind,
            path: path.into(),
            link: Vec::new(),
            size: 0,
            mode: 0,
            uid: 0,
            gid: 0,
            mtime: Timestamp::default(),
            atime: None,
            dev_major: 0,
            dev_minor: 0,
            xattrs: Vec::new(),
        }
    }
}
