//! Crash reports: on a panic or a fatal signal, write a Redis-style report with a backtrace to
//! the log, then exit.

/// Install the panic hook and fatal signal handlers.
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        let bt = std::backtrace::Backtrace::force_capture();
        report(&format!("Panic: {}", info), &bt.to_string());
        crate::event_loop::exit_now(1);
    }));
    for sig in [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGABRT] {
        // SAFETY: installing a handler that only formats and writes, then _exits; a crash is
        // already in progress, and Redis's own handler makes the same trade-off.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_fatal_signal as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESETHAND | libc::SA_NODEFER;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

extern "C" fn on_fatal_signal(sig: i32, _info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let bt = std::backtrace::Backtrace::force_capture();
    report(&format!("Redust {} crashed by signal: {}", env!("CARGO_PKG_VERSION"), sig), &bt.to_string());
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
