package io.sessionstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Reading documents no store would hold: the decoder answers its documented exception. */
class DecodeTest {
    private final ValueCodec codec = new ValueCodec(null);

    private static byte[] nested(int arrays) {
        byte[] doc = new byte[arrays + 1];
        Arrays.fill(doc, (byte) 0x91);
        doc[arrays] = 0x01;
        return doc;
    }

    /** Found by fuzzing (fuzz/README.md): too deep a document threw IllegalArgumentException. */
    @Test
    void aDocumentNestedTooDeepIsABadStoredValue() {
        Object v = codec.decode(nested(ValueCodec.MAX_DEPTH));
        for (int i = 0; i < ValueCodec.MAX_DEPTH; i++) {
            v = ((List<?>) v).get(0);
        }
        assertEquals(1, v);
        assertThrows(StoreBackendException.class, () -> codec.decode(nested(ValueCodec.MAX_DEPTH + 1)));
        byte[] maps = new byte[3 * (ValueCodec.MAX_DEPTH + 1) + 1];
        for (int i = 0; i <= ValueCodec.MAX_DEPTH; i++) {
            maps[3 * i] = (byte) 0x81;
            maps[3 * i + 1] = (byte) 0xa1;
            maps[3 * i + 2] = 'k';
        }
        maps[maps.length - 1] = 0x01;
        assertThrows(StoreBackendException.class, () -> codec.decode(maps));
    }
}
