//! Logging in Redis's own line format, through `log` + `fern`:
//! `pid:role DD Mon YYYY HH:MM:SS.mmm <level char> message`, with role `M`/`S`/`C`/`X` and
//! level chars `.` (debug), `-` (verbose), `*` (notice), `#` (warning).
//!
//! Levels map as: `trace!` = debug, `debug!` = verbose, `info!` = notice, `warn!`/`error!` =
//! warning. Like Redis, the log file is opened, appended and closed per line (so rotation
//! works), and no lock is held across the write, so a fork child can log safely.

use std::ffi::CString;
use std::io::Write;
use std::sync::atomic::{AtomicI64, AtomicU8, AtomicUsize, Ordering};
use std::sync::RwLock;

/// Redis verbosity levels.
pub const LL_DEBUG: u8 = 0;
pub const LL_VERBOSE: u8 = 1;
pub const LL_NOTICE: u8 = 2;
pub const LL_WARNING: u8 = 3;
/// `loglevel nothing`.
pub const LL_NOTHING: u8 = 4;

static VERBOSITY: AtomicU8 = AtomicU8::new(LL_NOTICE);
static ROLE: AtomicU8 = AtomicU8::new(b'M');
static TZ_OFFSET: AtomicI64 = AtomicI64::new(0);
static SYSLOG: AtomicUsize = AtomicUsize::new(0);
static LOGFILE: RwLock<String> = RwLock::new(String::new());

/// Install the logger (once, at start-up).
pub fn init() {
    update_timezone();
    let _ = fern::Dispatch::new()
        .level(log::LevelFilter::Trace)
        .chain(fern::Output::call(|record| {
            let level = match record.level() {
                log::Level::Trace => LL_DEBUG,
                log::Level::Debug => LL_VERBOSE,
                log::Level::Info => LL_NOTICE,
                _ => LL_WARNING,
            };
            write_line(level, &record.args().to_string());
        }))
        .apply();
}

/// Cache the local timezone offset (Redis's nolocks_localtime avoids localtime's lock).
pub fn update_timezone() {
    // SAFETY: localtime_r writes into our tm; called from the main thread at start-up.
    let off = unsafe {
        let t = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&t, &mut tm);
        tm.tm_gmtoff
    };
    TZ_OFFSET.store(off, Ordering::Relaxed);
}

/// Set `loglevel`.
pub fn set_verbosity(level: u8) {
    VERBOSITY.store(level, Ordering::Relaxed);
}

/// Current `loglevel`.
pub fn verbosity() -> u8 {
    VERBOSITY.load(Ordering::Relaxed)
}

/// Set the role character (`M` master, `S` replica, `C` child, `X` sentinel).
pub fn set_role(role: u8) {
    ROLE.store(role, Ordering::Relaxed);
}

/// Set `logfile` ("" logs to stdout).
pub fn set_logfile(path: &str) {
    if let Ok(mut g) = LOGFILE.write() {
        *g = path.to_string();
    }
}

/// Enable syslog with an ident and facility.
pub fn set_syslog(enabled: bool, ident: &str, facility: i32) {
    if enabled {
        let id = CString::new(ident).unwrap_or_default();
        // openlog keeps the pointer: leak the ident for the process lifetime.
        let p = id.into_raw();
        // SAFETY: p stays valid forever; openlog has no other preconditions.
        unsafe {
            libc::openlog(
                p,
                libc::LOG_PID | libc::LOG_NDELAY | libc::LOG_NOWAIT,
                facility,
            )
        };
        SYSLOG.store(1, Ordering::Relaxed);
    } else {
        SYSLOG.store(0, Ordering::Relaxed);
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Civil date from days since the epoch (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Format one log line's timestamp: `23 Nov 2026 18:20:27.123`.
pub fn timestamp(ms: i64) -> String {
    let local = ms / 1000 + TZ_OFFSET.load(Ordering::Relaxed);
    let (y, m, d) = civil(local.div_euclid(86400));
    let secs = local.rem_euclid(86400);
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        d,
        MONTHS[(m - 1) as usize],
        y,
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        ms.rem_euclid(1000)
    )
}

/// Write one line at `level` (Redis's serverLogRaw).
pub fn write_line(level: u8, msg: &str) {
    if level < VERBOSITY.load(Ordering::Relaxed) {
        return;
    }
    let ms = crate::server::mstime();
    let line = format!(
        "{}:{} {} {} {}\n",
        std::process::id(),
        ROLE.load(Ordering::Relaxed) as char,
        timestamp(ms),
        b".-*#"[level.min(3) as usize] as char,
        msg
    );
    write_raw(line.as_bytes());
    if SYSLOG.load(Ordering::Relaxed) != 0 {
        let prio = [
            libc::LOG_DEBUG,
            libc::LOG_INFO,
            libc::LOG_NOTICE,
            libc::LOG_WARNING,
        ][level.min(3) as usize];
        if let Ok(c) = CString::new(msg.replace('\0', " ")) {
            // SAFETY: "%s" with a valid NUL-terminated string.
            unsafe { libc::syslog(prio, c"%s".as_ptr(), c.as_ptr()) };
        }
    }
}

/// Write bytes to the log destination without formatting (the logo, crash reports).
pub fn write_raw(bytes: &[u8]) {
    let path = LOGFILE.read().map(|g| g.clone()).unwrap_or_default();
    if path.is_empty() {
        // Straight to fd 1: std's stdout lock could be held by another thread across a fork.
        let mut rest = bytes;
        while !rest.is_empty() {
            // SAFETY: writing a valid buffer to fd 1.
            let n = unsafe { libc::write(1, rest.as_ptr() as *const _, rest.len()) };
            if n <= 0 {
                break;
            }
            rest = &rest[n as usize..];
        }
    } else if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        let _ = f.write_all(bytes);
    }
}

/// Flush buffered output (lines are written unbuffered; kept for call sites before exit).
pub fn flush() {}

/// Log `bytes` in hex, 32 to a line, after a warning saying what they are (Redis's
/// serverLogHexDump).
pub fn hex_dump(what: &str, bytes: &[u8]) {
    log::warn!("{} (hexdump of {} bytes):", what, bytes.len());
    if LL_WARNING < VERBOSITY.load(Ordering::Relaxed) {
        return;
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2 + bytes.len() / 32 + 2);
    for line in bytes.chunks(32) {
        for b in line {
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 15) as usize]);
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    write_raw(&out);
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil(0), (1970, 1, 1));
        assert_eq!(super::civil(20414), (2025, 11, 22));
        assert_eq!(super::civil(11016), (2000, 2, 29));
        let ts = super::timestamp(0);
        assert!(ts.ends_with(".000"), "{ts}");
    }
}
