package io.pgcdc.source;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.postgresql.replication.LogSequenceNumber;

/** pgoutput messages captured from a real server, kept as test resources. */
public final class CapturedStream {

    public record Message(long lsn, byte[] bytes) {
        public ByteBuffer buffer() {
            return ByteBuffer.wrap(bytes);
        }
    }

    private CapturedStream() {
    }

    public static List<Message> load(String resource) throws IOException {
        try (InputStream in = CapturedStream.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("missing test resource " + resource);
            }
            List<Message> messages = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.trim().split(" ");
                messages.add(new Message(LogSequenceNumber.valueOf(parts[0]).asLong(), HexFormat.of().parseHex(parts[1])));
            }
            return messages;
        }
    }
}
