//! INFO: the server's state as `field:value` lines grouped in `# Section`s, with Redis 7.0's
//! section selection (default, all, everything, several names at once) and field names.

use std::collections::HashSet;
use std::fmt::Write;

use crate::client::{flags as cf, Client};
use crate::server::{Server, INST_COMMANDS, INST_NET_INPUT, INST_NET_OUTPUT};

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];

/// Redis's bytesToHuman.
pub fn bytes_to_human(n: u64) -> String {
    let d = n as f64;
    if n < 1024 {
        format!("{}B", n)
    } else if n < 1024 * 1024 {
        format!("{:.2}K", d / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.2}M", d / (1024.0 * 1024.0))
    } else if n < 1024u64.pow(4) {
        format!("{:.2}G", d / 1024f64.powi(3))
    } else if n < 1024u64.pow(5) {
        format!("{:.2}T", d / 1024f64.powi(4))
    } else {
        format!("{:.2}P", d / 1024f64.powi(5))
    }
}

fn rusage(who: i32) -> (f64, f64) {
    // SAFETY: getrusage fills the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(ru.ru_stime), t(ru.ru_utime))
}

/// Build the INFO text for the requested section names (lower-case).
pub fn generate(srv: &Server, current: Option<&Client>, args: &[String]) -> String {
    let mut sections: HashSet<&str> = HashSet::new();
    let mut all = false;
    let mut everything = false;
    if args.is_empty() {
        sections.extend(DEFAULT_SECTIONS);
    }
    for a in args {
        match a.as_str() {
            "default" => sections.extend(DEFAULT_SECTIONS),
            "all" => all = true,
            "everything" => {
                all = true;
                everything = true;
            }
            s => {
                sections.insert(s);
            }
        }
    }
    let want = |name: &str| all || sections.contains(name);
    let mut out = String::new();
    let mut n = 0;
    let mut begin = |out: &mut String, title: &str| {
        if n > 0 {
            out.push_str("\r\n");
        }
        n += 1;
        let _ = write!(out, "# {}\r\n", title);
    };
    let now_ms = srv.now_ms;
    let uptime = (now_ms - srv.start_time_ms) / 1000;
    let clients = srv.all_clients(current);
    if want("server") {
        begin(&mut out, "Server");
        let uname = nix::sys::utsname::uname().ok();
        let os = uname
            .map(|u| {
                format!(
                    "{} {} {}",
                    u.sysname().to_string_lossy(),
                    u.release().to_string_lossy(),
                    u.machine().to_string_lossy()
                )
            })
            .unwrap_or_default();
        let _ = write!(
            out,
            "redis_version:{}\r\nredust_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\nio_threads_active:0\r\n",
            crate::REDIS_VERSION,
            env!("CARGO_PKG_VERSION"),
            os,
            srv.pid,
            srv.run_id,
            srv.config.port,
            crate::server::ustime(),
            uptime,
            uptime / 86400,
            srv.hz,
            srv.config.hz,
            srv.lruclock,
            srv.executable,
            srv.config_file.as_deref().unwrap_or(""),
        );
        if srv.shutdown_initiated() {
            let _ = write!(
                out,
                "shutdown_in_milliseconds:{}\r\n",
                srv.shutdown_mstime - srv.now_ms
            );
        }
    }
    if want("clients") {
        begin(&mut out, "Clients");
        let normal = clients.iter().filter(|c| !c.has(cf::SLAVE)).count();
        let max_in = clients.iter().map(|c| c.querybuf_peak).max().unwrap_or(0);
        let max_out = clients
            .iter()
            .map(|c| c.reply.buf.capacity())
            .max()
            .unwrap_or(0);
        let blocked = clients
            .iter()
            .filter(|c| c.has(cf::BLOCKED | cf::POSTPONED))
            .count();
        let _ = write!(
            out,
            "connected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:{}\r\nclient_recent_max_output_buffer:{}\r\nblocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:{}\r\n",
            normal,
            srv.config.maxclients,
            max_in,
            max_out,
            blocked,
            srv.tracking.clients,
            srv.blocking.with_timeout()
        );
    }
    if want("memory") {
        begin(&mut out, "Memory");
        let used = crate::alloc::used_memory() as u64;
        let rss = crate::alloc::rss() as u64;
        let peak = (srv.stats.peak_memory as u64).max(used);
        let (allocated, active, resident, _retained) = crate::alloc::allocator_stats();
        let total = crate::alloc::total_system_memory();
        let frag = if used > 0 {
            rss as f64 / used as f64
        } else {
            0.0
        };
        let repl_buf = srv.repl.buffer_mem();
        let backlog_size = srv.config.repl_backlog_size.max(0) as usize;
        let (repl_backlog_mem, repl_excess) =
            if !srv.repl.replicas.is_empty() && repl_buf > backlog_size {
                (backlog_size, repl_buf - backlog_size)
            } else {
                (repl_buf, 0)
            };
        let replicas_mem = repl_excess
            + clients
                .iter()
                .filter(|c| c.has(cf::SLAVE) && !c.has(cf::MONITOR))
                .map(|c| c.memory_usage().1)
                .sum::<usize>();
        let _ = write!(
            out,
            "used_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{peak}\r\nused_memory_peak_human:{}\r\nused_memory_peak_perc:{:.2}%\r\nused_memory_overhead:{}\r\nused_memory_startup:{}\r\nused_memory_dataset:{}\r\nused_memory_dataset_perc:0.00%\r\nallocator_allocated:{allocated}\r\nallocator_active:{active}\r\nallocator_resident:{resident}\r\ntotal_system_memory:{total}\r\ntotal_system_memory_human:{}\r\n{}maxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nallocator_frag_ratio:{:.2}\r\nallocator_frag_bytes:{}\r\nallocator_rss_ratio:{:.2}\r\nallocator_rss_bytes:{}\r\nrss_overhead_ratio:{:.2}\r\nrss_overhead_bytes:{}\r\nmem_fragmentation_ratio:{:.2}\r\nmem_fragmentation_bytes:{}\r\nmem_not_counted_for_evict:{}\r\nmem_replication_backlog:{}\r\nmem_total_replication_buffers:{}\r\nmem_clients_slaves:{}\r\nmem_clients_normal:{}\r\nmem_cluster_links:0\r\nmem_aof_buffer:{}\r\nmem_allocator:jemalloc-5.3.0\r\nactive_defrag_running:0\r\nlazyfree_pending_objects:{}\r\nlazyfreed_objects:{}\r\n",
            bytes_to_human(used),
            bytes_to_human(rss),
            bytes_to_human(peak),
            used as f64 * 100.0 / peak.max(1) as f64,
            srv.startup_memory,
            srv.startup_memory,
            used.saturating_sub(srv.startup_memory as u64),
            bytes_to_human(total),
            info_scripting_memory(srv),
            srv.config.maxmemory,
            bytes_to_human(srv.config.maxmemory),
            srv.config.maxmemory_policy,
            active as f64 / allocated.max(1) as f64,
            active as i64 - allocated as i64,
            resident as f64 / active.max(1) as f64,
            resident as i64 - active as i64,
            rss as f64 / resident.max(1) as f64,
            rss as i64 - resident as i64,
            frag,
            rss as i64 - used as i64,
            crate::evict::not_counted_memory(srv),
            repl_backlog_mem,
            repl_buf,
            replicas_mem,
            clients
                .iter()
                .filter(|c| !c.has(cf::SLAVE) || c.has(cf::MONITOR))
                .map(|c| c.memory_usage().1)
                .sum::<usize>(),
            if srv.aof_active() {
                srv.aof.buf.capacity()
            } else {
                0
            },
            srv.lazyfree.pending(),
            srv.lazyfree.freed(),
        );
    }
    if want("persistence") {
        begin(&mut out, "Persistence");
        out.push_str(&crate::persistence::info_persistence(srv));
    }
    if want("stats") {
        begin(&mut out, "Stats");
        let s = &srv.stats;
        let exceeded = crate::evict::exceeded_time_ms(srv);
        let channels = srv.pubsub.channels.len();
        let patterns = srv.pubsub.patterns.len();
        let _ = write!(
            out,
            "total_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ntotal_net_repl_input_bytes:{}\r\ntotal_net_repl_output_bytes:{}\r\ninstantaneous_input_kbps:{:.2}\r\ninstantaneous_output_kbps:{:.2}\r\ninstantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:{}\r\nsync_full:{}\r\nsync_partial_ok:{}\r\nsync_partial_err:{}\r\nexpired_keys:{}\r\nexpired_stale_perc:{:.2}\r\nexpired_time_cap_reached_count:{}\r\nexpire_cycle_cpu_milliseconds:{}\r\nevicted_keys:{}\r\nevicted_clients:{}\r\ntotal_eviction_exceeded_time:{}\r\ncurrent_eviction_exceeded_time:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\nlatest_fork_usec:{}\r\ntotal_forks:{}\r\nmigrate_cached_sockets:{}\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\ntracking_total_keys:{}\r\ntracking_total_items:{}\r\ntracking_total_prefixes:{}\r\nunexpected_error_replies:{}\r\ntotal_error_replies:{}\r\ndump_payload_sanitizations:0\r\ntotal_reads_processed:{}\r\ntotal_writes_processed:{}\r\nio_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\n",
            s.total_connections,
            s.total_commands,
            s.inst[INST_COMMANDS].get(),
            s.net_input_bytes,
            s.net_output_bytes,
            srv.repl.stat_net_repl_input_bytes,
            srv.repl.stat_net_repl_output_bytes,
            s.inst[INST_NET_INPUT].get() as f64 / 1024.0,
            s.inst[INST_NET_OUTPUT].get() as f64 / 1024.0,
            s.rejected_connections,
            srv.repl.stat_sync_full,
            srv.repl.stat_sync_partial_ok,
            srv.repl.stat_sync_partial_err,
            s.expired_keys,
            srv.expire_cycle.stale_perc * 100.0,
            srv.expire_cycle.time_cap_reached,
            srv.expire_cycle.time_used_us / 1000,
            s.evicted_keys,
            s.evicted_clients,
            exceeded.0,
            exceeded.1,
            s.keyspace_hits,
            s.keyspace_misses,
            channels,
            patterns,
            srv.pubsub.shard_channels.len(),
            srv.persistence.latest_fork_usec,
            srv.persistence.total_forks,
            srv.migrate.len(),
            srv.tracking.total_keys(),
            srv.tracking.total_items(),
            srv.tracking.total_prefixes(),
            s.unexpected_error_replies,
            s.total_error_replies,
            s.io_reads,
            s.io_writes,
        );
    }
    if want("replication") {
        begin(&mut out, "Replication");
        out.push_str(&srv.info_replication(current));
    }
    if want("cpu") {
        begin(&mut out, "CPU");
        let (ss, su) = rusage(libc::RUSAGE_SELF);
        let (cs, cu) = rusage(libc::RUSAGE_CHILDREN);
        let (ts, tu) = rusage(libc::RUSAGE_THREAD);
        let _ = write!(
            out,
            "used_cpu_sys:{:.6}\r\nused_cpu_user:{:.6}\r\nused_cpu_sys_children:{:.6}\r\nused_cpu_user_children:{:.6}\r\nused_cpu_sys_main_thread:{:.6}\r\nused_cpu_user_main_thread:{:.6}\r\n",
            ss, su, cs, cu, ts, tu
        );
    }
    if want("module_list") || want("modules") {
        begin(&mut out, "Modules");
    }
    if all && want("commandstats") || sections.contains("commandstats") {
        begin(&mut out, "Commandstats");
        for e in &srv.commands.entries {
            let st = &e.stats;
            if st.calls > 0 || st.failed > 0 || st.rejected > 0 {
                let _ = write!(
                    out,
                    "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
                    e.fullname.replace([':', '#', '\n', '\r'], "_"),
                    st.calls,
                    st.usec,
                    if st.calls == 0 { 0.0 } else { st.usec as f32 / st.calls as f32 },
                    st.rejected,
                    st.failed
                );
            }
        }
    }
    if want("errorstats") {
        begin(&mut out, "Errorstats");
        let mut errs: Vec<(&String, &u64)> = srv.stats.errors.iter().collect();
        errs.sort();
        for (k, v) in errs {
            let _ = write!(out, "errorstat_{}:count={}\r\n", k, v);
        }
    }
    if all && want("latencystats") || sections.contains("latencystats") {
        begin(&mut out, "Latencystats");
        for e in &srv.commands.entries {
            let Some(h) = &e.stats.latency else { continue };
            let _ = write!(
                out,
                "latency_percentiles_usec_{}:",
                e.fullname.replace([':', '#', '\n', '\r'], "_")
            );
            for (i, p) in srv
                .config
                .latency_tracking_info_percentiles
                .iter()
                .enumerate()
            {
                if i > 0 {
                    out.push(',');
                }
                // Redis prints the percentile with "%f", trailing zeros trimmed.
                let pct = format!("{:.6}", p);
                let pct = String::from_utf8_lossy(crate::util::numbers::trim_double_string(
                    pct.as_bytes(),
                ));
                let _ = write!(
                    out,
                    "p{}={:.3}",
                    pct,
                    h.value_at_percentile(*p) as f64 / 1000.0
                );
            }
            out.push_str("\r\n");
        }
    }
    if want("cluster") {
        begin(&mut out, "Cluster");
        out.push_str("cluster_enabled:0\r\n");
    }
    if want("keyspace") {
        begin(&mut out, "Keyspace");
        for (i, db) in srv.dbs.iter().enumerate() {
            if !db.is_empty() {
                let _ = write!(
                    out,
                    "db{}:keys={},expires={},avg_ttl={}\r\n",
                    i,
                    db.len(),
                    db.expires.len(),
                    db.avg_ttl
                );
            }
        }
    }
    let _ = everything;
    out
}

/// The scripting part of INFO memory: the Lua states and what the caches hold.
fn info_scripting_memory(srv: &Server) -> String {
    let sc = &srv.scripting;
    let vm_eval = sc.eval.lua_memory() as u64;
    let vm_functions = sc.functions.lua_memory() as u64;
    let scripts_eval = sc.eval.scripts_mem as u64;
    let (nfuncs, nlibs) = sc.functions.counts();
    let functions = sc.functions.overhead() as u64;
    format!(
        "used_memory_lua:{vm_eval}\r\nused_memory_vm_eval:{vm_eval}\r\nused_memory_lua_human:{}\r\nused_memory_scripts_eval:{scripts_eval}\r\nnumber_of_cached_scripts:{}\r\nnumber_of_functions:{nfuncs}\r\nnumber_of_libraries:{nlibs}\r\nused_memory_vm_functions:{vm_functions}\r\nused_memory_vm_total:{}\r\nused_memory_vm_total_human:{}\r\nused_memory_functions:{functions}\r\nused_memory_scripts:{}\r\nused_memory_scripts_human:{}\r\n",
        bytes_to_human(vm_eval),
        sc.eval.scripts.len(),
        vm_eval + vm_functions,
        bytes_to_human(vm_eval + vm_functions),
        scripts_eval + functions,
        bytes_to_human(scripts_eval + functions),
    )
}
