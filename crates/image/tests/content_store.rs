//! The content store contract (`Provider` + `Ingester` + `Manager`), run against `LocalStore` on
//! a real filesystem: commit verification, nothing left behind on mismatch, abort or crash,
//! concurrent writers of one digest, walk and delete, and the on-disk guarantees of the local
//! layout (read-only blobs, ingest cleanup across processes).

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::ControlFlow;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};

use berth_image::content::{
    ContentError, Ingester, LocalStore, Manager, Provider, Store, WriterRequest,
};
use berth_image::{Algorithm, Category, Digest};

fn ingest_files(store: &LocalStore) -> Vec<String> {
    fs::read_dir(store.ingest_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn all_blobs(store: &dyn Store) -> BTreeSet<Digest> {
    let mut out = BTreeSet::new();
    store
        .walk(&mut |info| {
            out.insert(info.digest);
            ControlFlow::Continue(())
        })
        .unwrap();
    out
}

fn put(store: &dyn Store, data: &[u8]) -> Digest {
    let mut w = store.writer(WriterRequest::new()).unwrap();
    w.write_all(data).unwrap();
    w.commit(Some(data.len() as u64), None).unwrap().digest
}

#[test]
fn write_commit_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let digest = Digest::sha256_of(&data);

    let mut w = store
        .writer(WriterRequest::expecting(digest.clone(), data.len() as u64))
        .unwrap();
    // Not visible while ingesting.
    assert!(!store.exists(&digest).unwrap());
    for chunk in data.chunks(4099) {
        w.write_all(chunk).unwrap();
    }
    assert_eq!(w.written(), data.len() as u64);
    let c = w.commit(None, Some(&digest)).unwrap();
    assert_eq!(
        (c.digest.clone(), c.size, c.existed),
        (digest.clone(), data.len() as u64, false)
    );

    let info = store.info(&digest).unwrap();
    assert_eq!(
        (info.digest.clone(), info.size),
        (digest.clone(), data.len() as u64)
    );
    assert_eq!(store.read_all(&digest).unwrap(), data);
    let mut r = store.open(&digest).unwrap();
    r.seek(SeekFrom::Start(500_000)).unwrap();
    let mut tail = Vec::new();
    r.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, &data[500_000..]);

    // On disk: <root>/blobs/sha256/<hex>, read-only, and no ingest leftovers.
    let path = dir.path().join("blobs/sha256").join(digest.hex());
    assert_eq!(store.blob_path(&digest), path);
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o444
    );
    assert!(ingest_files(&store).is_empty());
    store.verify(&digest).unwrap();
}

#[test]
fn sha512_content() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let digest = Digest::of(Algorithm::Sha512, b"five twelve");
    let mut w = store
        .writer(WriterRequest::expecting(digest.clone(), 11))
        .unwrap();
    w.write_all(b"five twelve").unwrap();
    assert_eq!(w.commit(None, None).unwrap().digest, digest);
    assert_eq!(store.read_all(&digest).unwrap(), b"five twelve");
    assert!(dir.path().join("blobs/sha512").join(digest.hex()).is_file());
    assert!(all_blobs(&store).contains(&digest));

    // A sha256 writer cannot vouch for a sha512 digest.
    let mut w = store.writer(WriterRequest::new()).unwrap();
    w.write_all(b"x").unwrap();
    let e = w
        .commit(None, Some(&Digest::of(Algorithm::Sha512, b"x")))
        .unwrap_err();
    assert!(matches!(e, ContentError::AlgorithmMismatch { .. }), "{e}");
    assert!(ingest_files(&store).is_empty());
}

#[test]
fn size_mismatch_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let digest = Digest::sha256_of(b"abc");
    let mut w = store
        .writer(WriterRequest::expecting(digest.clone(), 4))
        .unwrap();
    w.write_all(b"abc").unwrap();
    let e = w.commit(None, None).unwrap_err();
    assert!(
        matches!(
            e,
            ContentError::SizeMismatch {
                expected: 4,
                actual: 3,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.category(), Category::Invalid);
    assert!(e.to_string().contains("expected 4"), "{e}");
    assert!(!store.exists(&digest).unwrap());
    assert!(all_blobs(&store).is_empty());
    assert!(ingest_files(&store).is_empty());
}

#[test]
fn digest_mismatch_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let claimed = Digest::sha256_of(b"what the registry promised");
    let mut w = store
        .writer(WriterRequest::expecting(claimed.clone(), 5))
        .unwrap();
    w.write_all(b"evil!").unwrap();
    let e = w.commit(None, None).unwrap_err();
    match &e {
        ContentError::DigestMismatch { expected, actual } => {
            assert_eq!(expected, &claimed);
            assert_eq!(actual, &Digest::sha256_of(b"evil!"));
        }
        other => panic!("unexpected {other}"),
    }
    assert_eq!(e.category(), Category::Invalid);
    assert!(all_blobs(&store).is_empty());
    assert!(!store.exists(&Digest::sha256_of(b"evil!")).unwrap());
    assert!(ingest_files(&store).is_empty());

    // The digest given at commit is checked as well.
    let mut w = store.writer(WriterRequest::new()).unwrap();
    w.write_all(b"evil!").unwrap();
    assert!(matches!(
        w.commit(Some(5), Some(&claimed)),
        Err(ContentError::DigestMismatch { .. })
    ));
    assert!(all_blobs(&store).is_empty());
    assert!(ingest_files(&store).is_empty());
}

#[test]
fn drop_and_abort_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    {
        let mut w = store.writer(WriterRequest::new()).unwrap();
        w.write_all(&[1u8; 300_000]).unwrap();
        assert_eq!(ingest_files(&store).len(), 1);
    }
    assert!(ingest_files(&store).is_empty());
    let mut w = store.writer(WriterRequest::new()).unwrap();
    w.write_all(b"partial").unwrap();
    w.abort().unwrap();
    assert!(ingest_files(&store).is_empty());
    assert!(all_blobs(&store).is_empty());
}

#[test]
fn existing_blob_refuses_a_writer_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let digest = put(&store, b"once");
    let e = store
        .writer(WriterRequest::expecting(digest.clone(), 4))
        .unwrap_err();
    assert!(matches!(e, ContentError::AlreadyExists { .. }), "{e}");
    assert_eq!(e.category(), Category::AlreadyExists);
    // Without an expected digest the duplicate is discovered at commit, which succeeds.
    let mut w = store.writer(WriterRequest::new()).unwrap();
    w.write_all(b"once").unwrap();
    let c = w.commit(None, None).unwrap();
    assert!(c.existed);
    assert_eq!(c.digest, digest);
    assert!(ingest_files(&store).is_empty());
}

#[test]
fn concurrent_writers_of_one_digest() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::open(dir.path()).unwrap());
    let data: Arc<Vec<u8>> = Arc::new((0..2_000_000u32).map(|i| (i % 253) as u8).collect());
    let digest = Digest::sha256_of(&data);
    let n = 8;
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (store, data, barrier) = (store.clone(), data.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut w = store.writer(WriterRequest::new()).unwrap();
                barrier.wait();
                for chunk in data.chunks(65536) {
                    w.write_all(chunk).unwrap();
                }
                barrier.wait();
                w.commit(Some(data.len() as u64), None).unwrap()
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(results.iter().all(|c| c.digest == digest));
    assert_eq!(
        results.iter().filter(|c| !c.existed).count(),
        1,
        "{results:?}"
    );
    assert_eq!(store.read_all(&digest).unwrap(), *data);
    assert_eq!(all_blobs(store.as_ref()).len(), 1);
    assert!(ingest_files(&store).is_empty());
}

#[test]
fn walk_delete_and_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let a = put(&store, b"a");
    let b = put(&store, b"b");
    let c = put(&store, b"c");
    // Stray files in the blob directory are not blobs.
    fs::write(dir.path().join("blobs/sha256/not-a-digest"), b"x").unwrap();
    assert_eq!(
        all_blobs(&store),
        BTreeSet::from([a.clone(), b.clone(), c.clone()])
    );

    let mut seen = 0;
    store
        .walk(&mut |_| {
            seen += 1;
            ControlFlow::Break(())
        })
        .unwrap();
    assert_eq!(seen, 1);

    store.delete(&b).unwrap();
    assert_eq!(all_blobs(&store), BTreeSet::from([a.clone(), c.clone()]));
    for e in [
        store.delete(&b).unwrap_err(),
        store.info(&b).unwrap_err(),
        store.read_all(&b).unwrap_err(),
        store.open(&b).err().unwrap(),
        store.verify(&b).unwrap_err(),
    ] {
        assert!(matches!(e, ContentError::NotFound { .. }), "{e}");
        assert_eq!(e.category(), Category::NotFound);
        assert!(e.to_string().contains(b.as_str()), "{e}");
    }
    assert!(!store.exists(&b).unwrap());
}

#[test]
fn verify_finds_a_tampered_blob() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let d = put(&store, b"original content");
    store.verify(&d).unwrap();
    let path = store.blob_path(&d);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&path, b"tampered content").unwrap();
    let e = store.verify(&d).unwrap_err();
    assert!(matches!(e, ContentError::Corrupt { .. }), "{e}");
    assert_eq!(e.category(), Category::Invalid);
}

#[test]
fn open_cleans_leftovers_but_not_live_writers() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    // A leftover of a writer that died (no lock held).
    let leftover = store.ingest_dir().join("deadbeef0000-1-0-00000000");
    fs::write(&leftover, b"half a layer").unwrap();
    // A live writer of this process.
    let mut live = store.writer(WriterRequest::new()).unwrap();
    live.write_all(b"still going").unwrap();
    live.flush().unwrap();
    let live_path = live.ingest_path().to_path_buf();

    let reopened = LocalStore::open(dir.path()).unwrap();
    assert!(!leftover.exists(), "leftover not cleaned");
    assert!(live_path.exists(), "a live writer's file was removed");
    let c = live.commit(None, None).unwrap();
    assert_eq!(reopened.read_all(&c.digest).unwrap(), b"still going");
    assert!(ingest_files(&reopened).is_empty());
}

/// The writer half of `killed_writer_is_cleaned_on_open`: run in a child process, it starts a
/// blob, reports its ingest file and waits to be killed.
#[test]
#[ignore = "helper run as a child process by killed_writer_is_cleaned_on_open"]
fn killed_writer_child() {
    let Ok(root) = std::env::var("BERTH_IMAGE_TEST_STORE") else {
        return;
    };
    let store = LocalStore::open(&root).unwrap();
    let mut w = store.writer(WriterRequest::new()).unwrap();
    w.write_all(&[7u8; 1 << 20]).unwrap();
    w.flush().unwrap();
    println!("INGEST {}", w.ingest_path().display());
    std::io::stdout().flush().unwrap();
    std::thread::sleep(std::time::Duration::from_secs(60));
    drop(w);
}

#[test]
fn killed_writer_is_cleaned_on_open() {
    let dir = tempfile::tempdir().unwrap();
    LocalStore::open(dir.path()).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "killed_writer_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("BERTH_IMAGE_TEST_STORE", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut ingest = None;
    let mut line = String::new();
    while std::io::BufRead::read_line(&mut out, &mut line).unwrap() > 0 {
        // libtest prints "test killed_writer_child ... " on the same line first.
        if let Some((_, p)) = line.trim().split_once("INGEST ") {
            ingest = Some(Path::new(p).to_path_buf());
            break;
        }
        line.clear();
    }
    let ingest = ingest.expect("child did not start a writer");
    // While the child lives, its file is protected.
    let store = LocalStore::open(dir.path()).unwrap();
    assert!(ingest.exists());
    // SIGKILL: no destructor runs, the file stays behind, the lock dies with the process.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        ingest.exists(),
        "the kill should leave the ingest file behind"
    );
    drop(store);
    let store = LocalStore::open(dir.path()).unwrap();
    assert!(!ingest.exists(), "leftover of a killed writer not cleaned");
    assert!(ingest_files(&store).is_empty());
    assert!(all_blobs(&store).is_empty());
}
