package io.pgcdc.quickstart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class ChangeDuplicatesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aStreamedChangeIsIdentifiedByItsPositionWithOrWithoutASchemaEnvelope() throws Exception {
        String plain = ChangeDuplicates.identity(json("{\"id\":7}"),
                json("{\"op\":\"u\",\"source\":{\"snapshot\":\"false\",\"lsn_commit\":100,\"change_index\":3}}"));
        String enveloped = ChangeDuplicates.identity(json("{\"schema\":{},\"payload\":{\"id\":8}}"),
                json("{\"schema\":{},\"payload\":{\"op\":\"c\",\"source\":{\"snapshot\":\"false\",\"lsn_commit\":100,\"change_index\":3}}}"));
        assertEquals("lsn_commit 100 change 3", plain);
        assertEquals(plain, enveloped, "the same position is the same change, whatever the row");
    }

    @Test
    void snapshotRowsShareAPositionAndAreIdentifiedByTheirKey() throws Exception {
        String first = ChangeDuplicates.identity(json("{\"id\":1}"),
                json("{\"op\":\"r\",\"source\":{\"snapshot\":\"true\",\"lsn_commit\":50,\"change_index\":0}}"));
        String second = ChangeDuplicates.identity(json("{\"id\":2}"),
                json("{\"op\":\"r\",\"source\":{\"snapshot\":\"last\",\"lsn_commit\":50,\"change_index\":0}}"));
        assertNotEquals(first, second);
    }

    @Test
    void countsEveryRepetition() {
        ChangeDuplicates.Count count = ChangeDuplicates.count(List.of("t a", "t b", "t a", "u a", "t a"));
        assertEquals(5, count.changes());
        assertEquals(List.of("t a", "t a"), count.duplicates());
    }

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }
}
