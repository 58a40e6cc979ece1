//! Extended attributes by file descriptor, and by `(directory fd, name)` for members that cannot
//! be opened safely (symbolic links, devices, fifos): those go through the directory's
//! `/proc/self/fd/<fd>/<name>` path with the `l*xattr` calls, which never follow the final
//! component, so no path outside the directory fd is ever resolved.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::XattrFlags;

/// `name`=`value` pairs.
pub type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;

/// The `/proc/self/fd/<dir>/<name>` path of `name` in the directory `dir`.
pub fn proc_path(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<CString> {
    let mut p = format!("/proc/self/fd/{}/", dir.as_raw_fd()).into_bytes();
    p.extend_from_slice(name);
    CString::new(p).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// Set an attribute on an open file.
pub fn set_fd(fd: BorrowedFd<'_>, name: &[u8], value: &[u8]) -> io::Result<()> {
    let name = cname(name)?;
    rustix::fs::fsetxattr(fd, name.as_c_str(), value, XattrFlags::empty()).map_err(Into::into)
}

/// Set an attribute on `name` in `dir` without following it.
pub fn set_at(dir: BorrowedFd<'_>, name: &[u8], xname: &[u8], value: &[u8]) -> io::Result<()> {
    let path = proc_path(dir, name)?;
    let xname = cname(xname)?;
    rustix::fs::lsetxattr(
        path.as_c_str(),
        xname.as_c_str(),
        value,
        XattrFlags::empty(),
    )
    .map_err(Into::into)
}

/// All attributes of an open file.
pub fn list_fd(fd: BorrowedFd<'_>) -> io::Result<Xattrs> {
    let names = loop {
        let n = match rustix::fs::flistxattr_query(fd) {
            Ok(n) => n,
            Err(rustix::io::Errno::OPNOTSUPP) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut buf = vec![0u8; n];
        match rustix::fs::flistxattr(fd, &mut buf[..]) {
            Ok(got) => {
                buf.truncate(got);
                break buf;
            }
            // The list grew between the two calls.
            Err(rustix::io::Errno::RANGE) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    let mut out = Vec::new();
    for name in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let cn = cname(name)?;
        let value = loop {
            let n = match rustix::fs::fgetxattr_query(fd, cn.as_c_str()) {
                Ok(n) => n,
                // Removed since the listing.
                Err(rustix::io::Errno::NODATA) => break None,
                Err(e) => return Err(e.into()),
            };
            let mut buf = vec![0u8; n];
            if n == 0 {
                break Some(buf);
            }
            match rustix::fs::fgetxattr(fd, cn.as_c_str(), &mut buf[..]) {
                Ok(got) => {
                    buf.truncate(got);
                    break Some(buf);
                }
                Err(rustix::io::Errno::RANGE) => continue,
                Err(rustix::io::Errno::NODATA) => break None,
                Err(e) => return Err(e.into()),
            }
        };
        if let Some(v) = value {
            out.push((name.to_vec(), v));
        }
    }
    Ok(out)
}

/// All attributes of `name` in `dir`, without following it.
pub fn list_at(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<Xattrs> {
    list_path(&proc_path(dir, name)?)
}

/// All attributes of `path`, without following its final component.
pub fn list_path(path: &std::ffi::CStr) -> io::Result<Xattrs> {
    let names = loop {
        let n = match rustix::fs::llistxattr_query(path) {
            Ok(n) => n,
            Err(rustix::io::Errno::OPNOTSUPP) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut buf = vec![0u8; n];
        match rustix::fs::llistxattr(path, &mut buf[..]) {
            Ok(got) => {
                buf.truncate(got);
                break buf;
            }
            Err(rustix::io::Errno::RANGE) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    let mut out = Vec::new();
    for name in names.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let cn = cname(name)?;
        let value = loop {
            let n = match rustix::fs::lgetxattr_query(path, cn.as_c_str()) {
                Ok(n) => n,
                Err(rustix::io::Errno::NODATA) => break None,
                Err(e) => return Err(e.into()),
            };
            let mut buf = vec![0u8; n];
            if n == 0 {
                break Some(buf);
            }
            match rustix::fs::lgetxattr(path, cn.as_c_str(), &mut buf[..]) {
                Ok(got) => {
                    buf.truncate(got);
                    break Some(buf);
                }
                Err(rustix::io::Errno::RANGE) => continue,
                Err(rustix::io::Errno::NODATA) => break None,
                Err(e) => return Err(e.into()),
            }
        };
        if let Some(v) = value {
            out.push((name.to_vec(), v));
        }
    }
    Ok(out)
}

/// One attribute of `path` (not following its final component), `None` when absent.
pub fn get_path(path: &std::path::Path, name: &[u8]) -> io::Result<Option<Vec<u8>>> {
    let p = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    Ok(list_path(&p)?
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v))
}

fn cname(name: &[u8]) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// Is this attribute overlayfs' own (`trusted.overlay.*`, `user.overlay.*`)? Such attributes
/// are never taken from an archive (a layer could otherwise forge redirects or opaque markers)
/// and never written into one.
pub fn is_overlay_private(name: &[u8]) -> bool {
    name.starts_with(b"trusted.overlay.") || name.starts_with(b"user.overlay.")
}
