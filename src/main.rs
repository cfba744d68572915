//! `redust-server`: a Redis 7.0 compatible server. Takes redis-server's command line:
//! `redust-server [config-file] [--directive value ...]`, `-` to read the config from stdin,
//! `--version`, `--help`.

use redust::{config, config_apply, crash, log, server, util, REDIS_VERSION};

fn usage() -> ! {
    eprintln!(
        "Usage: ./redust-server [/path/to/redis.conf] [options] [-]\n       ./redust-server - (read config from stdin)\n       ./redust-server -v or --version\n       ./redust-server -h or --help\n\nExamples:\n       ./redust-server (run the server with default conf)\n       echo 'maxmemory 128mb' | ./redust-server -\n       ./redust-server /etc/redis/6379.conf\n       ./redust-server --port 7777\n       ./redust-server --port 7777 --replicaof 127.0.0.1 8888\n       ./redust-server /etc/myredis.conf --loglevel verbose -\n       ./redust-server /etc/myredis.conf --loglevel verbose\n"
    );
    std::process::exit(1);
}

fn version() -> ! {
    println!(
        "Redis server v={} sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=0 redust={}",
        REDIS_VERSION,
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(0);
}

fn banner(srv: &server::Server) {
    let text = format!(
        "\n   Redust {} (Redis {} compatible) 64 bit\n   Running in standalone mode\n   Port: {}\n   PID: {}\n\n",
        env!("CARGO_PKG_VERSION"),
        REDIS_VERSION,
        srv.config.port,
        std::process::id()
    );
    log::write_raw(text.as_bytes());
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.len() >= 2 {
        match argv[1].as_str() {
            "-v" | "--version" => version(),
            "-h" | "--help" => usage(),
            "--test-memory" => {
                eprintln!("--test-memory is not supported by redust-server");
                std::process::exit(1);
            }
            _ => {}
        }
    }
    let cl = config::parse_command_line(&argv[1..]);
    let config_file = cl.config_file.clone();
    let cfg = match config::Config::load(config_file.as_deref(), &cl.options, cl.read_stdin) {
        Ok(c) => c,
        Err(e) => {
            eprint!("{}", e);
            std::process::exit(1);
        }
    };
    log::init();
    log::set_logfile(&cfg.logfile);
    log::set_verbosity(cfg.loglevel as u8);
    log::set_syslog(
        cfg.syslog_enabled,
        &cfg.syslog_ident,
        syslog_facility(cfg.syslog_facility),
    );
    if cfg.daemonize {
        daemonize();
    }
    ::log::warn!("oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo");
    ::log::warn!(
        "Redis version={}, bits=64, commit=00000000, modified=0, pid={}, just started",
        REDIS_VERSION,
        std::process::id()
    );
    if config_file.is_none() {
        ::log::warn!("Warning: no config file specified, using the default config. In order to specify a config file use {} /path/to/redis.conf", argv[0]);
    } else {
        ::log::warn!("Configuration loaded");
    }
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| argv[0].clone());
    let renames = cfg.startup.rename_commands.clone();
    let mut srv = match server::Server::new(cfg, config_file.clone(), exe) {
        Ok(s) => s,
        Err(e) => {
            ::log::warn!("Failed creating the event loop. Error message: '{}'", e);
            std::process::exit(1);
        }
    };
    util::proctitle::init(&argv[0]);
    util::proctitle::update(&srv.config, None);
    for d in &renames {
        let old = String::from_utf8_lossy(&d.args[1]).into_owned();
        let new = d
            .args
            .get(2)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .unwrap_or_default();
        if let Err(e) = srv.commands.rename(&old, &new) {
            eprint!("{}", config::ConfigFileError::at(d, e));
            std::process::exit(1);
        }
    }
    // `user` directives are checked like the rest of the file (ACLAppendUserForLoading).
    let user_directives = srv.config.startup.users.clone();
    {
        let rules = redust::acl::rules(&srv.commands, &srv.config);
        let mut seen: Vec<Vec<u8>> = Vec::new();
        for d in &user_directives {
            if let Err((idx, reason)) = redust::acl::validate_user_directive(&d.args, &seen, &rules)
            {
                let arg = d
                    .args
                    .get(idx)
                    .map(|a| String::from_utf8_lossy(a).into_owned());
                let msg = format!(
                    "Error in user declaration '{}': {}",
                    arg.unwrap_or_default(),
                    reason
                );
                eprint!("{}", config::ConfigFileError::at(d, msg));
                std::process::exit(1);
            }
            seen.push(d.args[1].clone());
        }
    }
    crash::install();
    if srv.config.always_show_logo || nix::unistd::isatty(1).unwrap_or(false) {
        banner(&srv);
    } else {
        ::log::info!("Running mode=standalone, port={}.", srv.config.port);
    }
    if let Some(pidfile) = &srv.config.pidfile {
        if let Err(e) = std::fs::write(pidfile, format!("{}\n", std::process::id())) {
            ::log::warn!("Failed to write PID file: {}", e);
        }
    }
    let cfg_snapshot = srv.config.clone();
    config_apply::set_oom_score_adj(&mut srv, &cfg_snapshot, config_apply::OomClass::Master);
    if srv.listen().is_err() {
        std::process::exit(1);
    }
    ::log::warn!("Server initialized");
    load_users_at_startup(&mut srv, &user_directives);
    srv.startup_memory = redust::alloc::used_memory();
    srv.set_signal_pipe(signal_pipe());
    redust::event_loop::install_insist_handler();
    srv.replication_startup();
    srv.aof_load_manifest_from_disk();
    srv.load_data_from_disk();
    srv.aof_open_on_server_start();
    srv.aof_del_history_files();
    ::log::info!("Ready to accept connections");
    srv.notify_supervisor_ready();
    srv.run();
}

/// Create the users of `user` directives, or of the ACL file (ACLLoadUsersAtStartup);
/// exits on errors, and when both are configured.
fn load_users_at_startup(srv: &mut server::Server, directives: &[config::Directive]) {
    if !srv.config.aclfile.is_empty() && !directives.is_empty() {
        ::log::warn!("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.");
        std::process::exit(1);
    }
    let args: Vec<Vec<Vec<u8>>> = directives.iter().map(|d| d.args.clone()).collect();
    let rules = redust::acl::rules(&srv.commands, &srv.config);
    if let Err(e) = redust::acl::load_configured_users(&mut srv.acl, &args, &rules) {
        ::log::warn!("{}", e);
        ::log::warn!("Critical error while loading ACLs. Exiting.");
        std::process::exit(1);
    }
    if !srv.config.aclfile.is_empty() {
        match redust::acl::parse_acl_file(&srv.config.aclfile, &rules) {
            Ok(users) => {
                srv.acl.replace_all(users);
            }
            Err(e) => {
                ::log::warn!("Aborting Redis startup because of ACL errors: {}", e);
                std::process::exit(1);
            }
        }
    }
}

/// SIGTERM/SIGINT arrive through a self-pipe registered with the reactor.
fn signal_pipe() -> mio::net::UnixStream {
    let (read, write) = std::os::unix::net::UnixStream::pair().expect("signal pipe");
    read.set_nonblocking(true).expect("nonblocking signal pipe");
    write
        .set_nonblocking(true)
        .expect("nonblocking signal pipe");
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let w = write.try_clone().expect("signal pipe clone");
        signal_hook::low_level::pipe::register_raw(sig, std::os::fd::IntoRawFd::into_raw_fd(w))
            .expect("register signal");
    }
    // SIGPIPE would kill us on a write to a closed socket; errors are handled instead.
    // SAFETY: setting a signal disposition at start-up, before any other thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    mio::net::UnixStream::from_std(read)
}

/// Detach from the terminal like Redis's daemonize(): fork, setsid, stdio to /dev/null.
fn daemonize() {
    use nix::unistd::{fork, setsid, ForkResult};
    // SAFETY: single-threaded at this point; the parent exits immediately.
    match unsafe { fork() } {
        Ok(ForkResult::Parent { .. }) => std::process::exit(0),
        Ok(ForkResult::Child) => {}
        Err(_) => std::process::exit(1),
    }
    let _ = setsid();
    if let Ok(f) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        use std::os::fd::AsRawFd;
        for fd in 0..3 {
            let _ = nix::unistd::dup2(f.as_raw_fd(), fd);
        }
    }
}

/// The syslog(3) facility for a `syslog-facility` value.
fn syslog_facility(f: config::SyslogFacility) -> i32 {
    use config::SyslogFacility as F;
    match f {
        F::User => libc::LOG_USER,
        F::Local0 => libc::LOG_LOCAL0,
        F::Local1 => libc::LOG_LOCAL1,
        F::Local2 => libc::LOG_LOCAL2,
        F::Local3 => libc::LOG_LOCAL3,
        F::Local4 => libc::LOG_LOCAL4,
        F::Local5 => libc::LOG_LOCAL5,
        F::Local6 => libc::LOG_LOCAL6,
        F::Local7 => libc::LOG_LOCAL7,
    }
}
