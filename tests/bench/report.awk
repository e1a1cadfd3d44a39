# make bench's report: the table, the targets' checklist, and the JSON.
#
# Input, from tests/bench/run, one record a line:
#   tcp|udp NAME CONC ROUND RATE P50 P99 REQUESTS ANSWERED LOST TIMEOUTS ERRORS WRONG TICKS
#   rss_idle|rss_load|child_pss NAME KIB
#   startup_ms small|big MS     fds big COUNT
# Variables: clk (clock ticks a second), rounds, secs, idle, json (the file
# to write), date.  Every figure of the table is also a flat metric of the
# JSON, which compare.awk reads back.

function sortn(a, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
}

# The median of the values of field F of KEY's runs.
function median(key, f,   a, n, i) {
	n = nrun[key]
	for (i = 1; i <= n; i++)
		a[i] = val[key, i, f]
	sortn(a, n)
	if (n == 0)
		return 0
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

function spread(key,   lo, hi, i, v, m) {
	m = median(key, "rate")
	lo = hi = val[key, 1, "rate"]
	for (i = 2; i <= nrun[key]; i++) {
		v = val[key, i, "rate"]
		if (v < lo) lo = v
		if (v > hi) hi = v
	}
	return m > 0 ? 100 * (hi - lo) / m : 0
}

function cpu_us(key) {
	return sum[key, "answered"] > 0 ? 1e6 * sum[key, "ticks"] / clk / sum[key, "answered"] : 0
}

function loss_pct(key) {
	if (sum[key, "requests"] == 0)
		return 0
	return 100 * (sum[key, "lost"] + sum[key, "timeouts"]) / sum[key, "requests"]
}

function has(proto, name, conc) {
	return nrun[proto SUBSEP name SUBSEP conc] > 0
}

function rate(proto, name, conc) {
	return median(proto SUBSEP name SUBSEP conc, "rate")
}

# The fastest peer's median at CONC; its name in bestname.
function best_peer(proto, conc,   i, r, b) {
	b = 0
	bestname = ""
	for (i = 1; i <= npeer; i++)
		if (has(proto, peer[i], conc) && (r = rate(proto, peer[i], conc)) > b) {
			b = r
			bestname = peer[i]
		}
	return b
}

function ratio(a, b) {
	return b > 0 ? sprintf("%.2f", a / b) : "-"
}

function metric(name, v) {
	nmetric++
	mname[nmetric] = name
	mval[nmetric] = v
}

function row(proto, name, conc,   key, m, bp, fl, cpu) {
	key = proto SUBSEP name SUBSEP conc
	m = median(key, "rate")
	bp = best_peer(proto, conc)
	fl = has(proto, "floor", conc) ? rate(proto, "floor", conc) : 0
	cpu = cpu_us(key)
	if (proto == "tcp")
		printf "%-14s %5d %9.0f %6.1f%% %8.3f %8.3f %9.1f %7s %7s\n", name, conc, m,
		    spread(key), median(key, "p50"), median(key, "p99"), cpu,
		    ratio(m, bp), ratio(m, fl)
	else
		printf "%-14s %5d %9.0f %6.1f%% %6.2f%% %8.3f %8.3f %9.1f %7s %7s\n", name,
		    conc, m, spread(key), loss_pct(key), median(key, "p50"), median(key, "p99"),
		    cpu, ratio(m, bp), ratio(m, fl)
	pre = proto "." name ".c" conc "."
	metric(pre "rate", m)
	metric(pre "spread_pct", spread(key))
	metric(pre "p50_ms", median(key, "p50"))
	metric(pre "p99_ms", median(key, "p99"))
	metric(pre "cpu_us", cpu)
	if (proto == "udp")
		metric(pre "loss_pct", loss_pct(key))
	if (bp > 0)
		metric(pre "x_best_peer", m / bp)
	if (fl > 0)
		metric(pre "x_floor", m / fl)
	bad += sum[key, "errors"] + sum[key, "wrong"] + (proto == "tcp" ? sum[key, "timeouts"] : 0)
}

# CPU per transaction over every TCP run of NAME.
function cpu_all(name,   c, t, a) {
	t = a = 0
	for (c = 1; c <= 3; c++) {
		t += sum["tcp" SUBSEP name SUBSEP conc_tcp[c], "ticks"]
		a += sum["tcp" SUBSEP name SUBSEP conc_tcp[c], "answered"]
	}
	return a > 0 ? 1e6 * t / clk / a : 0
}

function check(name, ok, figure) {
	if (ok == "")
		verdict = "n/a "
	else
		verdict = ok ? "pass" : "miss"
	printf "  [%s] %-52s %s\n", verdict, name, figure
	ntarget++
	tname[ntarget] = name
	tverdict[ntarget] = verdict
}

# A target "NAME's median >= K x OTHER's" at CONC.
function check_ratio(proto, name, conc, k, other, what,   m, o) {
	if (!has(proto, name, conc) || o_rate(proto, other, conc) <= 0) {
		check(sprintf("%s %s c=%d >= %.1fx %s", proto, name, conc, k, what), "", "(not run)")
		return
	}
	m = rate(proto, name, conc)
	o = o_rate(proto, other, conc)
	check(sprintf("%s %s c=%d >= %.1fx %s", proto, name, conc, k, what), m >= k * o,
	    sprintf("%.2fx (%.0f vs %.0f)", m / o, m, o))
}

function o_rate(proto, other, conc) {
	if (other == "peer")
		return best_peer(proto, conc)
	return has(proto, other, conc) ? rate(proto, other, conc) : 0
}

function json_str(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	return "\"" s "\""
}

function write_json(   i) {
	printf "{\n  \"version\": 1,\n  \"date\": %s,\n", json_str(date) >json
	printf "  \"rounds\": %d,\n  \"seconds\": %s,\n", rounds, secs >json
	printf "  \"metrics\": {\n" >json
	for (i = 1; i <= nmetric; i++)
		printf "    %s: %.6g%s\n", json_str(mname[i]), mval[i],
		    i < nmetric ? "," : "" >json
	printf "  },\n  \"targets\": {\n" >json
	for (i = 1; i <= ntarget; i++)
		printf "    %s: %s%s\n", json_str(tname[i]), json_str(tverdict[i]),
		    i < ntarget ? "," : "" >json
	printf "  }\n}\n" >json
	close(json)
}

$1 == "tcp" || $1 == "udp" {
	key = $1 SUBSEP $2 SUBSEP $3
	n = ++nrun[key]
	val[key, n, "rate"] = $5
	val[key, n, "p50"] = $6
	val[key, n, "p99"] = $7
	sum[key, "requests"] += $8
	sum[key, "answered"] += $9
	sum[key, "lost"] += $10
	sum[key, "timeouts"] += $11
	sum[key, "errors"] += $12
	sum[key, "wrong"] += $13
	sum[key, "ticks"] += $14
	next
}
$1 == "rss_idle" || $1 == "rss_load" || $1 == "child_pss" { mem[$1, $2] = $3; next }
$1 == "startup_ms" || $1 == "fds" { scale[$1, $2] = $3; next }

function tables(   i, j, name) {
	printf "\nTCP, one connection per request: transactions/s, median of %d runs of %s s\n",
	    rounds, secs
	printf "(spread = (max-min)/median; latency medians; CPU = server and its children;\n"
	printf " x peer = / fastest peer at that concurrency, x floor = / floor server)\n"
	printf "%-14s %5s %9s %7s %8s %8s %9s %7s %7s\n", "server", "conc", "tx/s", "spread",
	    "p50 ms", "p99 ms", "CPU us/tx", "x peer", "x floor"
	for (i = 1; i <= nserver; i++)
		for (j = 1; j <= 3; j++)
			if (has("tcp", server[i], conc_tcp[j]))
				row("tcp", server[i], conc_tcp[j])
	printf "\nUDP over ::1, one datagram and its reply: replies/s at 1 and 32 sockets\n"
	printf "%-14s %5s %9s %7s %7s %8s %8s %9s %7s %7s\n", "server", "socks", "replies/s",
	    "spread", "loss", "p50 ms", "p99 ms", "CPU us/r", "x peer", "x floor"
	for (i = 1; i <= nserver; i++)
		for (j = 1; j <= 2; j++)
			if (has("udp", server[i], conc_udp[j]))
				row("udp", server[i], conc_udp[j])
	if (has("udp", "xinetd", 1) || has("udp", "xinetd", 32))
		printf "(xinetd reads and discards what its socket holds after each reply of its\n" \
		    " internal echo, often the client's next datagram already: its loss is its own)\n"
}

function memory(   i, name) {
	printf "\nMemory, KiB: the parent's RSS idle and after the load; the PSS of a child\n"
	printf "holding one open connection (tcpserver's: /bin/cat)\n"
	printf "%-14s %9s %9s %9s\n", "server", "RSS idle", "RSS load", "child PSS"
	for (i = 1; i <= nmain; i++) {
		name = mainname[i]
		if (!((("rss_idle") SUBSEP name) in mem))
			continue
		printf "%-14s %9d %9d %9d\n", name, mem["rss_idle", name], mem["rss_load", name],
		    mem["child_pss", name]
		metric("mem." name ".rss_idle_kib", mem["rss_idle", name])
		metric("mem." name ".rss_load_kib", mem["rss_load", name])
		metric("mem." name ".child_pss_kib", mem["child_pss", name])
	}
	if (("child_pss" SUBSEP "hellod-hello") in mem) {
		printf "%-14s %9s %9s %9d\n", "(hello child)", "", "", mem["child_pss", "hellod-hello"]
		metric("mem.hellod.hello_child_pss_kib", mem["child_pss", "hellod-hello"])
	}
}

function scale_report(   s, b) {
	s = has("tcp", "scale-small", 8) ? rate("tcp", "scale-small", 8) : 0
	b = has("tcp", "scale-big", 8) ? rate("tcp", "scale-big", 8) : 0
	printf "\nScale: %d idle services (TCP and UDP: %d sockets; the daemon held %d fds)\n",
	    idle, 2 * idle, scale["fds", "big"]
	printf "  busy echo at c=8: %.0f tx/s beside them, %.0f alone: %sx\n", b, s, ratio(b, s)
	printf "  start-up, exec to \"hellod: started\" (median): %.1f ms with them, %.1f ms alone\n",
	    scale["startup_ms", "big"], scale["startup_ms", "small"]
	metric("scale.busy_rate_big", b)
	metric("scale.busy_rate_small", s)
	if (s > 0)
		metric("scale.x_alone", b / s)
	metric("scale.startup_ms_big", scale["startup_ms", "big"])
	metric("scale.startup_ms_small", scale["startup_ms", "small"])
	scale_b = b
	scale_s = s
}

function targets(   svc, i, c, x, mine, rss, pss, u, in_) {
	printf "\nTargets (medians of this run; a miss does not fail make bench):\n"
	for (i = 1; i <= 2; i++) {
		svc = i == 1 ? "hellod-echo" : "hellod-hello"
		for (c = 2; c <= 3; c++) {
			check_ratio("tcp", svc, conc_tcp[c], 0.9, "floor", "floor")
			check_ratio("tcp", svc, conc_tcp[c], 1.5, "peer", "fastest peer")
		}
		check_ratio("tcp", svc, 1, 1.3, "peer", "fastest peer")
	}
	x = cpu_all("xinetd")
	for (i = 1; i <= 2; i++) {
		svc = i == 1 ? "hellod-echo" : "hellod-hello"
		mine = cpu_all(svc)
		if (x > 0 && mine > 0)
			check(sprintf("tcp %s CPU/transaction <= 0.6x xinetd's", svc), mine <= 0.6 * x,
			    sprintf("%.2fx (%.0f vs %.0f us)", mine / x, mine, x))
		else
			check(sprintf("tcp %s CPU/transaction <= 0.6x xinetd's", svc), "", "(not run)")
	}
	if (has("udp", "hellod-echo", 32) && has("udp", "inetd", 32)) {
		u = rate("udp", "hellod-echo", 32)
		in_ = rate("udp", "inetd", 32)
		check("udp hellod-echo 32 sockets >= 1.2x openbsd-inetd, no loss",
		    u >= 1.2 * in_ && loss_pct("udp" SUBSEP "hellod-echo" SUBSEP 32) == 0,
		    sprintf("%.2fx (%.0f vs %.0f), loss %.2f%%", in_ > 0 ? u / in_ : 0, u, in_,
		    loss_pct("udp" SUBSEP "hellod-echo" SUBSEP 32)))
	} else
		check("udp hellod-echo 32 sockets >= 1.2x openbsd-inetd, no loss", "", "(not run)")
	rss = mem["rss_idle", "hellod"]
	check("hellod parent RSS idle <= 2 MiB", rss > 0 ? rss <= 2048 : "", rss " KiB")
	pss = mem["child_pss", "hellod"]
	check("hellod TCP child PSS <= 300 KiB", pss > 0 ? pss <= 300 : "", pss " KiB (echo)")
	check(sprintf("scale: busy service >= 0.9x beside %d idle", idle),
	    scale_s > 0 ? scale_b >= 0.9 * scale_s : "", ratio(scale_b, scale_s) "x")
	check(sprintf("scale: start-up < 100 ms with %d idle", idle),
	    scale["startup_ms", "big"] > 0 ? scale["startup_ms", "big"] < 100 : "",
	    sprintf("%.1f ms", scale["startup_ms", "big"]))
}

END {
	nserver = split("hellod-echo hellod-hello floor xinetd inetd tcpserver", server, " ")
	npeer = split("xinetd inetd tcpserver", peer, " ")
	nmain = split("hellod floor xinetd inetd tcpserver", mainname, " ")
	split("1 8 32", conc_tcp, " ")
	split("1 32", conc_udp, " ")
	tables()
	memory()
	scale_report()
	targets()
	if (bad > 0)
		printf "\nnote: %d TCP requests failed (errors, wrong replies, timeouts)\n", bad
	write_json()
}
