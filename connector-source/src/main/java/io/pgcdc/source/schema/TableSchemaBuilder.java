package io.pgcdc.source.schema;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;

import io.pgcdc.source.SourceConfig;
import io.pgcdc.source.SourceConfig.DecimalHandling;
import io.pgcdc.source.pgoutput.PgOutputMessage.Relation;

/**
 * Builds a {@link TableSchema} from a Relation message. One per task, shared by streaming and
 * snapshots: a table described again the same way gets the {@link TableSchema} it had, so its
 * records keep carrying the very same schema instances. pgoutput sends a table's Relation message
 * again after every invalidation of its cache entry (VACUUM and ANALYZE cause them), and a snapshot
 * describes the table from the catalog; converters cache by schema, and JsonConverter compares equal
 * but distinct schemas field by field, on every record.
 */
public final class TableSchemaBuilder {

    /** The latest schema built for a relation, with the column types its converters were made for. */
    private record Built(List<Long> columnTypes, TableSchema table) { }

    private final String topicPrefix;
    private final DecimalHandling decimals;
    private final boolean transactionBlock;
    private final Map<Integer, Built> latest = new HashMap<>();

    public TableSchemaBuilder(String topicPrefix, DecimalHandling decimals, boolean transactionBlock) {
        this.topicPrefix = topicPrefix;
        this.decimals = decimals;
        this.transactionBlock = transactionBlock;
    }

    /** The one builder of a task. */
    public static TableSchemaBuilder of(SourceConfig config) {
        return new TableSchemaBuilder(config.topicPrefix(), config.decimalHandling(), config.provideTransactionMetadata());
    }

    /**
     * The key is what the stream itself identifies rows by: the replica identity columns the
     * Relation message flags (the primary key by default, or the chosen unique index), so a
     * delete always carries its key. Only when the identity is FULL (every column flagged) or
     * NOTHING is the primary key taken from the catalog.
     *
     * @param primaryKey supplies the primary key columns; asked only for FULL and NOTHING identities
     */
    public synchronized TableSchema build(Relation relation, Supplier<Set<String>> primaryKey,
                                          ColumnConverter.TypeResolver types) {
        TableSchema table = describe(relation, primaryKey, types);
        List<Long> columnTypes = relation.columns().stream()
                .map(c -> ((long) c.typeOid() << 32) | (c.typeModifier() & 0xFFFFFFFFL)).toList();
        Built previous = latest.get(relation.relationId());
        if (previous != null && previous.columnTypes().equals(columnTypes) && previous.table().sameAs(table)) {
            return previous.table();
        }
        latest.put(relation.relationId(), new Built(columnTypes, table));
        return table;
    }

    private TableSchema describe(Relation relation, Supplier<Set<String>> primaryKey, ColumnConverter.TypeResolver types) {
        String base = topicPrefix + "." + relation.schema() + "." + relation.table();
        String schemaBase = schemaName(base);
        int count = relation.columns().size();
        String[] names = new String[count];
        ColumnConverter[] converters = new ColumnConverter[count];
        SchemaBuilder row = SchemaBuilder.struct().name(schemaBase + ".Value").optional();
        List<Integer> keyColumns = new ArrayList<>();
        boolean flagsAreKey = relation.replicaIdentity() == 'd' || relation.replicaIdentity() == 'i';
        Set<String> catalogKey = flagsAreKey ? Set.of() : primaryKey.get();
        for (int i = 0; i < count; i++) {
            Relation.Column column = relation.columns().get(i);
            names[i] = column.name();
            converters[i] = ColumnConverter.forType(types.resolve(column.typeOid()), column.typeModifier(), types, decimals);
            row.field(column.name(), converters[i].schema());
            if (flagsAreKey ? column.key() : catalogKey.contains(column.name())) {
                keyColumns.add(i);
            }
        }
        Schema rowSchema = row.build();
        Schema keySchema = null;
        if (!keyColumns.isEmpty()) {
            SchemaBuilder key = SchemaBuilder.struct().name(schemaBase + ".Key");
            for (int column : keyColumns) {
                Schema valueSchema = converters[column].schema();
                key.field(names[column], required(valueSchema));
            }
            keySchema = key.build();
        }
        Schema envelope = Envelope.schema(schemaBase + ".Envelope", rowSchema, transactionBlock);
        return new TableSchema(relation.schema(), relation.table(), topicName(base), names, converters,
                keyColumns.stream().mapToInt(Integer::intValue).toArray(), keySchema, rowSchema, envelope);
    }

    private static Schema required(Schema optional) {
        SchemaBuilder builder;
        switch (optional.type()) {
            case ARRAY:
                builder = SchemaBuilder.array(optional.valueSchema());
                break;
            default:
                builder = new SchemaBuilder(optional.type());
        }
        builder.name(optional.name()).version(optional.version()).doc(optional.doc());
        if (optional.parameters() != null) {
            builder.parameters(optional.parameters());
        }
        return builder.build();
    }

    /** Kafka topic names allow letters, digits, '.', '_' and '-'; anything else becomes '_'. */
    static String topicName(String name) {
        return name.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    /** Connect schema names are kept Avro-compatible: dotted identifiers of letters, digits and '_'. */
    static String schemaName(String name) {
        StringBuilder out = new StringBuilder(name.length());
        for (String part : name.split("\\.", -1)) {
            if (out.length() > 0) {
                out.append('.');
            }
            String clean = part.replaceAll("[^A-Za-z0-9_]", "_");
            if (clean.isEmpty() || Character.isDigit(clean.charAt(0))) {
                clean = "_" + clean;
            }
            out.append(clean);
        }
        return out.toString();
    }
}
