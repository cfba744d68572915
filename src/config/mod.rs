//! TEMPORARY stand-in until the config table lands.
pub mod parse;

#[derive(Debug, Clone)]
pub struct Config {
    pub port: i64,
    pub bind: Vec<String>,
    pub tcp_backlog: i64,
    pub unixsocket: String,
    pub unixsocketperm: u32,
    pub maxclients: i64,
    pub timeout: i64,
    pub hz: i64,
    pub dynamic_hz: bool,
    pub requirepass: String,
    pub databases: i64,
    pub tcp_keepalive: i64,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: i64,
    pub latency_monitor_threshold: i64,
    pub enable_debug_command: String,
    pub notify_keyspace_events: u32,
    pub lazyfree_lazy_expire: bool,
    pub active_expire_effort: i64,
    pub save: Vec<(i64, i64)>,
    pub pidfile: String,
    pub daemonize: bool,
    pub logfile: String,
    pub dir: String,
    pub dbfilename: String,
    pub always_show_logo: bool,
    pub maxmemory: u64,
    pub repl_backlog_size: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            bind: vec!["*".into(), "-::*".into()],
            tcp_backlog: 511,
            unixsocket: String::new(),
            unixsocketperm: 0,
            maxclients: 10000,
            timeout: 0,
            hz: 10,
            dynamic_hz: true,
            requirepass: String::new(),
            databases: 16,
            tcp_keepalive: 300,
            proto_max_bulk_len: 512 << 20,
            client_query_buffer_limit: 1 << 30,
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            enable_debug_command: "no".into(),
            notify_keyspace_events: 0,
            lazyfree_lazy_expire: false,
            active_expire_effort: 1,
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            pidfile: String::new(),
            daemonize: false,
            logfile: String::new(),
            dir: String::new(),
            dbfilename: "dump.rdb".into(),
            always_show_logo: false,
            maxmemory: 0,
            repl_backlog_size: 1 << 20,
        }
    }
}

impl Config {
    pub fn get(&self, _pats: &[&[u8]]) -> Vec<(String, String)> {
        vec![]
    }
    pub fn set(&mut self, _pairs: &[(&[u8], &[u8])], _local: bool, _apply: &mut dyn FnMut(&Config, &Config, &[usize]) -> Result<(), String>) -> Result<(), String> {
        Err("ERR not yet".into())
    }
    pub fn rewrite(&self, _path: &str) -> Result<(), String> {
        Err("not yet".into())
    }
    pub fn daemonize_or_pidfile(&self) -> bool {
        true
    }
}

pub struct Loaded { pub config: Config, pub renames: Vec<(String, String)> }
pub fn args_to_options(args: &[String]) -> (Option<String>, String, bool) {
    let mut file = None; let mut opts = String::new(); let mut i = 0;
    if !args.is_empty() && !args[0].starts_with('-') { file = Some(args[0].clone()); i = 1; }
    while i < args.len() { let a = &args[i]; if let Some(n) = a.strip_prefix("--") { opts.push('\n'); opts.push_str(n); } else { opts.push(' '); opts.push_str(a); } i += 1; }
    (file, opts, false)
}
impl Config {
    pub fn load(_f: Option<&str>, opts: &str, _stdin: bool) -> Result<Loaded, String> {
        let mut c = Config::default();
        for line in opts.lines() { let p: Vec<&str> = line.split_whitespace().collect(); if p.len() == 2 && p[0] == "port" { c.port = p[1].parse().unwrap_or(6379); } }
        Ok(Loaded { config: c, renames: vec![] })
    }
    pub fn loglevel_value(&self) -> u8 { 2 }
    pub fn maxmemory_policy_name(&self) -> &str { "noeviction" }
}
