//! The process title shown by `ps` and `/proc/PID/cmdline` (Redis's setproctitle): the
//! memory holding the command line and, after it, the environment strings is rewritten
//! in place. The environment strings are first copied elsewhere (and `environ` pointed
//! at the copies) so that the whole contiguous area is free for the title.
//!
//! Linux only: the bounds of that area come from `/proc/self/stat` (arg_start, arg_end,
//! env_start, env_end). Elsewhere, or when anything looks unexpected, titles are not set.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Start of the writable title area (0: not initialised or unavailable).
static BASE: AtomicUsize = AtomicUsize::new(0);
/// One past its end.
static END: AtomicUsize = AtomicUsize::new(0);
/// Offset of the last byte of the original arguments (arg_end - 1 - arg_start).
static ARG_LAST: AtomicUsize = AtomicUsize::new(0);

/// The argv and environment bounds of this process, from `/proc/self/stat`.
fn area_bounds() -> Option<(usize, usize, usize, usize)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3; arg_start is field 48.
    let field = |n: usize| fields.get(n - 3)?.parse::<usize>().ok();
    Some((field(48)?, field(49)?, field(50)?, field(51)?))
}

/// The program name as invoked (argv[0]), the template's `{title}` in the main process.
static ARGV0: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Make the command line area rewritable (Redis's spt_init). Call once from `main`,
/// before any thread starts and after the command line has been read: `std::env::args`
/// shows the title afterwards.
pub fn init(argv0: &str) {
    let _ = ARGV0.set(argv0.to_string());
    if !cfg!(target_os = "linux") {
        return;
    }
    let Some((arg_start, arg_end, env_start, env_end)) = area_bounds() else {
        return;
    };
    if arg_start == 0 || arg_end <= arg_start {
        return;
    }
    // The environment can be taken over only when it directly follows the arguments (the
    // kernel shows a title overflowing into it only then).
    let mut end = arg_end;
    if env_start == arg_end && env_end > env_start {
        // SAFETY: single-threaded start-up; `environ` is the C environment array, each entry
        // a NUL-terminated string. Entries pointing into the area we are taking over are
        // replaced by leaked copies, which stay valid for the life of the process.
        unsafe {
            let mut p = environ;
            if p.is_null() {
                return;
            }
            while !(*p).is_null() {
                let s = *p as usize;
                if s >= env_start && s < env_end {
                    let copy = std::ffi::CStr::from_ptr(*p).to_owned();
                    *p = copy.into_raw();
                }
                p = p.add(1);
            }
        }
        end = env_end;
    }
    ARG_LAST.store(arg_end - 1 - arg_start, Ordering::Relaxed);
    BASE.store(arg_start, Ordering::Relaxed);
    END.store(end, Ordering::Relaxed);
}

extern "C" {
    static mut environ: *mut *mut libc::c_char;
}

/// Set the title from `proc-title-template` (Redis's redisSetProcTitle): `{title}` is the
/// program name in the main process, or what a forked child does (`redis-rdb-bgsave`...).
/// A template that does not expand leaves the title unchanged.
pub fn update(config: &crate::config::Config, child: Option<&str>) {
    let title = child.unwrap_or_else(|| ARGV0.get().map_or("redis-server", String::as_str));
    if let Some(t) = config.expand_proc_title(&config.proc_title_template, title) {
        set(&t);
    }
}

/// Show `title` as the process's command line (truncated to the space there is).
pub fn set(title: &str) {
    let (base, end) = (BASE.load(Ordering::Relaxed), END.load(Ordering::Relaxed));
    if base == 0 || end <= base + 1 {
        return;
    }
    let size = end - base;
    let len = title.len().min(size - 1);
    // SAFETY: [base, end) is this process's own command line and (copied away in `init`)
    // environment memory: mapped, writable, and referenced by nothing else we use.
    unsafe {
        let area = std::slice::from_raw_parts_mut(base as *mut u8, size);
        area.fill(0);
        area[..len].copy_from_slice(&title.as_bytes()[..len]);
        // The kernel reads a rewritten title up to its NUL only when the last byte of the
        // original argument area is not NUL; otherwise it shows the area verbatim, NULs
        // and all. Mark it when the title is shorter than the arguments were.
        let arg_last = ARG_LAST.load(Ordering::Relaxed).min(size - 1);
        if len <= arg_last {
            area[arg_last] = b' ';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_ordered() {
        if let Some((a, b, c, d)) = area_bounds() {
            assert!(a < b && b <= c && c <= d, "{a} {b} {c} {d}");
        }
    }
}
