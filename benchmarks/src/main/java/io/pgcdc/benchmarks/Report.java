package io.pgcdc.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** The figures as a Markdown table: printed as the run goes, and written to BENCHMARKS.md at its end. */
final class Report {

    record Row(Workload workload, long rows, SourceBenchmark.Result source, SinkBenchmark.Result sink) { }

    private final double scale;
    private final String machine;
    private final ZonedDateTime started = ZonedDateTime.now(ZoneOffset.UTC);
    private final List<Row> rows = new ArrayList<>();
    private String postgres = "unknown";
    private LatencyBenchmark.Result latency;

    Report(double scale, String machine) {
        this.scale = scale;
        this.machine = machine;
    }

    void setPostgres(String version) {
        this.postgres = version;
    }

    void add(Row row) {
        rows.add(row);
    }

    void setLatency(LatencyBenchmark.Result latency) {
        this.latency = latency;
    }

    /** The latest workload's figures, as the console shows them. */
    String lastLines() {
        Row r = rows.get(rows.size() - 1);
        return "  source rows/s: pgcdc " + r.source().pgcdc().rate() + ", Debezium " + r.source().debezium().rate()
                + ", pgjdbc reader " + r.source().ceiling().rate() + "; with SchemaCachingJsonConverter: pgcdc "
                + r.source().pgcdcCached().rate() + ", Debezium " + r.source().debeziumCached().rate() + "\n"
                + "  source CPU per 1,000 rows: walsender pgcdc " + r.source().pgcdc().databaseCpuText() + ", Debezium "
                + r.source().debezium().databaseCpuText() + ", pgjdbc reader " + r.source().ceiling().databaseCpuText()
                + "; JVM pgcdc " + r.source().pgcdc().jvmCpuText() + ", Debezium " + r.source().debezium().jvmCpuText() + "\n"
                + "  sink rows/s:   pgcdc " + r.sink().pgcdc().rate() + ", Debezium JDBC " + r.sink().debezium().rate()
                + ", direct JDBC " + r.sink().direct().rate() + "\n"
                + "  sink CPU per 1,000 rows: PostgreSQL pgcdc " + r.sink().pgcdc().databaseCpuText() + ", Debezium JDBC "
                + r.sink().debezium().databaseCpuText() + ", direct JDBC " + r.sink().direct().databaseCpuText()
                + "; JVM pgcdc " + r.sink().pgcdc().jvmCpuText() + ", Debezium JDBC " + r.sink().debezium().jvmCpuText();
    }

    String markdown() {
        StringBuilder md = new StringBuilder("# Benchmarks\n\n");
        md.append("""
                What this means for you: how many rows per second each connector moves on the machine below, beside \
                Debezium's connectors doing the same work and beside what the server and the driver can do at most \
                (the ceilings); and what each costs the databases and the worker in CPU. Rates on a shared machine move \
                between runs: read the ratios within this run. How it is measured: \
                [docs/benchmarks.md](docs/benchmarks.md).

                """);
        if (scale < 1) {
            md.append(String.format("> **Reduced run at scale %s** (each workload shrunk to %s%% of its rows). It shows "
                    + "that every contender and workload runs; at this size a sink writes a workload in a few statements, "
                    + "so timer resolution and the machine's other load (see the load average below) weigh heavily: "
                    + "these are **not** the benchmark's figures. The full run is `./run-benchmarks.sh` (scale 1).%n%n",
                    scale, scale * 100));
        }
        md.append("- Date: ").append(started.format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"))).append('\n');
        md.append("- Machine: ").append(machine).append('\n');
        md.append("- PostgreSQL ").append(postgres).append(" (one throwaway server: OLTP and OLAP databases), Kafka ")
                .append("broker and Connect worker in one JVM, JsonConverter with schemas, producers batching 1 MiB with lz4 ")
                .append("(as config-examples suggest); Debezium 3.6.0.Final\n");
        md.append("- Command: `./run-benchmarks.sh --scale=").append(scale).append("`\n");
        md.append("- Targets: source ≥ 2× Debezium and ≥ 0.5× the pgjdbc reader; sink ≥ 3× Debezium JDBC and ≥ 0.7× direct "
                + "JDBC; heap flat on the one-transaction workload\n\n");

        md.append("## Source: rows/s draining the workload's backlog (first to last record landing in Kafka)\n\n");
        table(md, List.of("rows", "pgcdc", "Debezium", "pgjdbc reader (ceiling)", "pgcdc / Debezium", "pgcdc / ceiling",
                "heap pgcdc", "heap Debezium"), r -> {
                    SourceBenchmark.Result s = r.source();
                    return List.of(String.format("%,d", r.rows()), s.pgcdc().rate(), s.debezium().rate(),
                            s.ceiling().rate(), s.pgcdc().ratioTo(s.debezium()), s.pgcdc().ratioTo(s.ceiling()),
                            s.pgcdc().heapText(), s.debezium().heapText());
                });
        md.append("\nThe same, both sources writing through pgcdc's `SchemaCachingJsonConverter` (JsonConverter's bytes, "
                + "each schema's JSON cached rather than written out again per record):\n\n");
        table(md, List.of("pgcdc", "Debezium", "pgcdc / Debezium", "pgcdc / ceiling", "heap pgcdc", "heap Debezium"), r -> {
            SourceBenchmark.Result s = r.source();
            return List.of(s.pgcdcCached().rate(), s.debeziumCached().rate(), s.pgcdcCached().ratioTo(s.debeziumCached()),
                    s.pgcdcCached().ratioTo(s.ceiling()), s.pgcdcCached().heapText(), s.debeziumCached().heapText());
        });
        md.append("\n## Source: CPU per 1,000 rows\n\n");
        md.append("The walsender's is what decoding for the contender costs the database; the JVM's is the worker, the "
                + "broker and this driver together, from the connector's creation to its deletion.\n\n");
        table(md, List.of("walsender pgcdc", "walsender Debezium", "walsender pgjdbc reader", "JVM pgcdc", "JVM Debezium",
                "JVM pgcdc, caching converter", "JVM Debezium, caching converter"), r -> {
                    SourceBenchmark.Result s = r.source();
                    return List.of(s.pgcdc().databaseCpuText(), s.debezium().databaseCpuText(),
                            s.ceiling().databaseCpuText(), s.pgcdc().jvmCpuText(), s.debezium().jvmCpuText(),
                            s.pgcdcCached().jvmCpuText(), s.debeziumCached().jvmCpuText());
                });
        md.append("\n## Sink: rows/s from the topic our source filled (from the commit of the first transaction that wrote rows to the commit of the last)\n\n");
        table(md, List.of("rows", "pgcdc", "pgcdc given Structs", "Debezium JDBC", "direct JDBC JSON-array (ceiling)",
                "pgcdc / Debezium", "pgcdc given Structs / Debezium", "pgcdc / ceiling", "heap pgcdc", "heap Debezium"), r -> {
                    SinkBenchmark.Result s = r.sink();
                    return List.of(String.format("%,d", r.rows()), s.pgcdc().rate(), s.pgcdcStructs().rate(),
                            s.debezium().rate(), s.direct().rate(), s.pgcdc().ratioTo(s.debezium()),
                            s.pgcdcStructs().ratioTo(s.debezium()), s.pgcdc().ratioTo(s.direct()), s.pgcdc().heapText(),
                            s.debezium().heapText());
                });
        md.append("\n## Sink: CPU per 1,000 rows\n\n");
        md.append("PostgreSQL's is every client backend of the OLAP database while the contender ran: what writing costs "
                + "the analytics database. The JVM's is the worker, the broker and this driver together.\n\n");
        table(md, List.of("PostgreSQL pgcdc", "PostgreSQL pgcdc given Structs", "PostgreSQL Debezium JDBC",
                "PostgreSQL direct JDBC", "JVM pgcdc", "JVM pgcdc given Structs", "JVM Debezium JDBC"), r -> {
                    SinkBenchmark.Result s = r.sink();
                    return List.of(s.pgcdc().databaseCpuText(), s.pgcdcStructs().databaseCpuText(),
                            s.debezium().databaseCpuText(), s.direct().databaseCpuText(), s.pgcdc().jvmCpuText(),
                            s.pgcdcStructs().jvmCpuText(), s.debezium().jvmCpuText());
                });
        md.append("\n## End-to-end latency through pgcdc source and sink\n\n");
        md.append("Commit (the row's `clock_timestamp()` at insert) to the row visible in OLAP (a row trigger's "
                + "`clock_timestamp()`), at ").append(LatencyBenchmark.ROWS_PER_SECOND)
                .append(" rows/s offered in 10-row transactions, after a checkpoint, a full GC and a 5 s warm-up: ")
                .append(latency == null ? "not run" : latency.describe());
        if (latency != null && latency.failure() == null) {
            md.append("; heap ").append(latency.heap());
        }
        md.append("\n\n## How it is measured\n\n");
        md.append("""
                - Warm-up: before each workload every contender (the ceilings too) runs once on that workload at 20% \
                of its size (the run's first workload twice), not reported, so that the first contender to run does \
                not pay for the JIT compiling the worker's, the broker's and the converter's code for that shape of \
                data; and every contender starts only once the JIT compiler is quiet (under 20 ms of compiling in a \
                second, or after 120 s).
                - Source: each contender has its own slot on one publication, created before the workload; the workload \
                is written with no connector running, then each contender in turn drains the backlog alone \
                (a pgjdbc replication stream that reads pgoutput proto 1 and discards it, then pgcdc, then Debezium with \
                `snapshot.mode=no_data`, then both again with `SchemaCachingJsonConverter` as their connectors' \
                `key.converter` and `value.converter`). Topics are stamped by the broker (LogAppendTime); the pgjdbc reader is timed \
                from connecting to its last row change.
                - Sink: the sinks read the same topic (pgcdc's change events, written by JsonConverter with schemas) \
                from its beginning, 2,500 records per poll (pgcdc writes each poll as one batch). pgcdc reads JsonConverter's bytes \
                itself (`value.converter=ByteArrayConverter`, as config-examples suggest); "pgcdc given Structs" is \
                the same sink behind the worker's JsonConverter, as Debezium's sink must be (Debezium: `insert.mode=upsert`, `primary.key.mode=record_key`, \
                `batch.size=10000`, `use.reduction.buffer=true`), each into its own table of the same definition \
                (pre-filled with the rows the updates workload updates). A sink is timed by the commit timestamps of \
                its target's rows (`track_commit_timestamp = on`): from its first transaction's commit to its last, \
                counting the rows committed after the first (whose start cannot be seen); its end is awaited by \
                looking up the topic's last record's row by key every 100 ms (rows are applied in topic order, a batch at a \
                time), and the row count is checked once at the end. Direct JDBC runs pgcdc's statement shape \
                (one guarded `INSERT ... SELECT FROM json_to_recordset(?) ON CONFLICT` per 10,000 rows or 8 MiB of values, \
                on a connection that first allocates and frees pgcdc's 32 MiB block, \
                jsonb documents beside the rows as a `text[]` zipped in by `ROWS FROM`) over rows \
                read from the OLTP table, timing only array building and statements.
                - CPU: PostgreSQL's from each serving process's `/proc/<pid>/schedstat`, sampled every 50 ms (the \
                last 50 ms before a process exits can be missed): for a source the walsender of its slot, for a sink \
                every client backend of the OLAP database (the benchmark's polling included: a key lookup every \
                100 ms). The JVM's from `OperatingSystemMXBean.getProcessCpuTime` between the connector's creation \
                and its deletion, start-up included. On a shared 2-core machine CPU per row moves far less between \
                runs than rows/s.
                - Heap: of the one JVM (worker, broker and this driver) while the contender ran: the highest heap \
                left after a garbage collection (what was live: flat means bounded memory), and in brackets the \
                highest in use at all (which mostly shows when the collector ran). Upper bounds on the worker's \
                own, comparable within one run.
                """);
        return md.toString();
    }

    /** A table of one row per workload: its description, then {@code cells}, figures aligned right. */
    private void table(StringBuilder md, List<String> headers, Function<Row, List<String>> cells) {
        md.append("| workload | ").append(String.join(" | ", headers)).append(" |\n");
        md.append("| --- |").append(" ---: |".repeat(headers.size())).append('\n');
        for (Row r : rows) {
            md.append("| ").append(r.workload().description()).append(" | ").append(String.join(" | ", cells.apply(r)))
                    .append(" |\n");
        }
    }

    void write(Path file) throws IOException {
        Files.writeString(file, markdown());
    }
}
