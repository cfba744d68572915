//! Crash reports: on a panic or a fatal signal, write a Redis-style report with a backtrace to
//! the log, then exit.

/// Install the panic hook and fatal signal handlers.
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        let bt = std::backtrace::Backtrace::force_capture();
        report(&format!("Panic: {}", info), &bt.to_string());
        crate::event_loop::exit_now(1);
    }));
    for sig in [
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGFPE,
        libc::SIGILL,
        libc::SIGABRT,
    ] {
        // SAFETY: installing a handler that only formats and writes, then _exits; a crash is
        // already in progress, and Redis's own handler makes the same trade-off.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_fatal_signal as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESETHAND | libc::SA_NODEFER;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

extern "C" fn on_fatal_signal(sig: i32, _info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let bt = std::backtrace::Backtrace::force_capture();
    report(
        &format!(
            "Redust {} crashed by signal: {}",
            env!("CARGO_PKG_VERSION"),
            sig
        ),
        &bt.to_string(),
    );
    // SAFETY: re-raise with the default action so the exit status says what happened.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

/// Write the crash report.
pub fn report(reason: &str, backtrace: &str) {
    log::warn!("\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===");
    log::warn!("{}", reason);
    log::warn!("------ STACK TRACE ------\n{}", backtrace);
    log::warn!("\n=== REDIS BUG REPORT END. Make sure to include from START to END. ===\n");
}

/// DEBUG SEGFAULT / PANIC / ASSERT: report and abort.
pub fn report_and_abort(reason: &str) -> ! {
    let bt = std::backtrace::Backtrace::force_capture();
    report(&format!("Guru Meditation: {}", reason), &bt.to_string());
    // SAFETY: raising SIGSEGV with default action terminates the process like Redis does.
    unsafe {
        libc::signal(libc::SIGSEGV, libc::SIG_DFL);
        libc::raise(libc::SIGSEGV);
    }
    crate::event_loop::exit_now(1)
}

/// The software watchdog (`watchdog-period`, Redis's enableWatchdog): a timer aimed at the
/// reactor thread fires SIGALRM when the reactor has not re-armed it within the period —
/// that is, when one command or event ran longer — and the handler logs the stack of the
/// thread it interrupted, showing what was taking so long.
pub mod watchdog {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// The POSIX timer, created on first use (0 until then).
    static TIMER: AtomicUsize = AtomicUsize::new(0);
    static HANDLER_INSTALLED: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_alarm(_sig: i32, _info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
        crate::log::write_line(3, "\n--- WATCHDOG TIMER EXPIRED ---");
        let bt = std::backtrace::Backtrace::force_capture();
        crate::log::write_raw(format!("{}\n", bt).as_bytes());
        crate::log::write_line(3, "--------\n");
    }

    /// Create the timer (signalling the calling thread, the reactor) and the handler.
    fn ensure_timer() -> Option<libc::timer_t> {
        if !HANDLER_INSTALLED.swap(true, Ordering::Relaxed) {
            // SAFETY: installing a SIGALRM handler; it formats and writes a report.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_alarm as *const () as usize;
                // Not SA_ONSTACK: the alternate stack std sets up is far too small to
                // unwind and symbolize on.
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(libc::SIGALRM, &sa, std::ptr::null_mut());
            }
        }
        let t = TIMER.load(Ordering::Relaxed);
        if t != 0 {
            return Some(t as libc::timer_t);
        }
        // SAFETY: a zeroed sigevent filled for SIGEV_THREAD_ID delivery to this thread;
        // timer_create writes the new timer id into `timer`.
        unsafe {
            let mut sev: libc::sigevent = std::mem::zeroed();
            sev.sigev_notify = libc::SIGEV_THREAD_ID;
            sev.sigev_signo = libc::SIGALRM;
            sev.sigev_notify_thread_id = libc::gettid();
            let mut timer: libc::timer_t = std::ptr::null_mut();
            if libc::timer_create(libc::CLOCK_MONOTONIC, &mut sev, &mut timer) != 0 {
                return None;
            }
            TIMER.store(timer as usize, Ordering::Relaxed);
            Some(timer)
        }
    }

    /// (Re-)arm the one-shot timer for `period_ms` from now; 0 disarms it.
    pub fn schedule(period_ms: i64) {
        let Some(timer) = ensure_timer() else {
            return;
        };
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: period_ms / 1000,
                tv_nsec: (period_ms % 1000) * 1_000_000,
            },
        };
        // SAFETY: arming a timer this module created.
        unsafe { libc::timer_settime(timer, 0, &spec, std::ptr::null_mut()) };
    }

    /// The period actually used: at least two cron periods, or the reactor's own cron
    /// would not re-arm it in time (Redis's enableWatchdog).
    pub fn effective_period(period_ms: i64, hz: i32) -> i64 {
        if period_ms <= 0 {
            return 0;
        }
        period_ms.max(1000 / hz.max(1) as i64 * 2)
    }

    /// Stop the watchdog.
    pub fn disable() {
        if TIMER.load(Ordering::Relaxed) != 0 {
            schedule(0);
        }
    }
}
