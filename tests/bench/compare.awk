# make bench: this run against the previous one, from their JSON files
# (awk -f compare.awk previous.json latest.json).  The figures of hellod
# and of the scale check, then the targets whose verdict changed.  The
# peers and the floor are left out: they moved only if the machine did.

/"metrics": \{/ { inm = 1; next }
/"targets": \{/ { intg = 1; next }
/^  \}/ { inm = intg = 0; next }
(inm || intg) && /^    "/ {
	# "NAME": VALUE, where a target's NAME may hold a colon.
	line = $0
	sub(/^    "/, "", line)
	i = index(line, "\": ")
	name = substr(line, 1, i - 1)
	v = substr(line, i + 3)
	sub(/,$/, "", v)
	gsub(/"/, "", v)
	if (FILENAME == ARGV[1])
		old[inm ? "m" : "t", name] = v
	else {
		new[inm ? "m" : "t", name] = v
		order[++n] = (inm ? "m" : "t") SUBSEP name
	}
}

END {
	printf "\nCompared with the previous run (%s):\n", ARGV[1]
	printf "%-40s %12s %12s %8s\n", "figure", "previous", "now", "change"
	for (i = 1; i <= n; i++) {
		split(order[i], k, SUBSEP)
		if (k[1] != "m" || !(order[i] in old))
			continue
		if (k[2] !~ /hellod|^scale\./ || k[2] ~ /spread|p50|x_/)
			continue
		o = old[order[i]] + 0
		v = new[order[i]] + 0
		printf "%-40s %12.4g %12.4g %8s\n", k[2], o, v,
		    o != 0 ? sprintf("%+.1f%%", 100 * (v - o) / o) : "-"
	}
	for (i = 1; i <= n; i++) {
		split(order[i], k, SUBSEP)
		if (k[1] == "t" && (order[i] in old) && old[order[i]] != new[order[i]])
			printf "target now %s (was %s): %s\n", new[order[i]], old[order[i]], k[2]
	}
}
