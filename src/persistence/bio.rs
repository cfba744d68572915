//! The background I/O thread (Redis's bio.c, the AOF fsync part): `appendfsync everysec`
//! fsyncs the AOF once a second without stalling the reactor, and a file being replaced is
//! fsynced and closed here too. The thread only receives files (its own descriptors) and
//! reports the outcome through atomics; it never touches the server, and a fork child never
//! talks to it.

use std::fs::File;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;

/// A job for the thread.
enum Job {
    /// fsync this (duplicated) descriptor of the AOF, then drop it.
    Fsync(File),
    /// fsync and close a file that is being replaced.
    FsyncAndClose(File),
}

/// Handle to the fsync thread.
#[derive(Debug)]
pub struct Bio {
    tx: Sender<Job>,
    pending: Arc<AtomicUsize>,
    /// errno of the last failed fsync, 0 after a successful one.
    fsync_errno: Arc<AtomicI32>,
}

impl Bio {
    /// Start the thread.
    pub fn start() -> Bio {
        let (tx, rx) = channel::<Job>();
        let pending = Arc::new(AtomicUsize::new(0));
        let fsync_errno = Arc::new(AtomicI32::new(0));
        let (p, e) = (pending.clone(), fsync_errno.clone());
        std::thread::Builder::new()
            .name("bio_aof".into())
            .spawn(move || {
                for job in rx {
                    let (f, close) = match job {
                        Job::Fsync(f) => (f, false),
                        Job::FsyncAndClose(f) => (f, true),
                    };
                    match f.sync_data() {
                        Ok(()) => e.store(0, Ordering::Release),
                        // A file being closed can be gone already (EBADF/EINVAL are not
                        // errors for it, as in Redis).
                        Err(err) if !close => {
                            e.store(err.raw_os_error().unwrap_or(libc::EIO), Ordering::Release)
                        }
                        Err(_) => {}
                    }
                    drop(f);
                    p.fetch_sub(1, Ordering::AcqRel);
                }
            })
            .expect("spawn the bio thread");
        Bio {
            tx,
            pending,
            fsync_errno,
        }
    }

    /// fsync `f` (a duplicate of the AOF descriptor) in the background.
    pub fn fsync(&self, f: File) {
        self.pending.fetch_add(1, Ordering::AcqRel);
        if self.tx.send(Job::Fsync(f)).is_err() {
            self.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// fsync and close `f` in the background.
    pub fn fsync_and_close(&self, f: File) {
        self.pending.fetch_add(1, Ordering::AcqRel);
        if self.tx.send(Job::FsyncAndClose(f)).is_err() {
            self.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Jobs not done yet (INFO aof_pending_bio_fsync).
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// The errno of the last background fsync if it failed.
    pub fn fsync_error(&self) -> Option<i32> {
        match self.fsync_errno.load(Ordering::Acquire) {
            0 => None,
            e => Some(e),
        }
    }

    /// Forget a past fsync error (AOF turned on again).
    pub fn clear_error(&self) {
        self.fsync_errno.store(0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsyncs_in_the_background() {
        let bio = Bio::start();
        let path = std::env::temp_dir().join(format!("redust-bio-{}", std::process::id()));
        let f = File::create(&path).unwrap();
        bio.fsync(f.try_clone().unwrap());
        bio.fsync_and_close(f);
        for _ in 0..1000 {
            if bio.pending() == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(bio.pending(), 0);
        assert_eq!(bio.fsync_error(), None);
        let _ = std::fs::remove_file(path);
    }
}
