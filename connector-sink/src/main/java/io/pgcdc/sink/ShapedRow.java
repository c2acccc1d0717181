package io.pgcdc.sink;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * A record's fields as an unmodifiable map over an array. The names and their order (the shape) are
 * shared by every record read with one schema, so a record costs one array instead of a hash table of its
 * own: building those tables was the largest part of reading JsonConverter's bytes that was this sink's.
 */
final class ShapedRow extends AbstractMap<String, Object> {

    /** Field names in order, with the slot of each: one per schema (and the fields kept of it). */
    static final class Shape {

        private final String[] names;
        private final Map<String, Integer> slots = new HashMap<>();

        Shape(List<String> names) {
            this.names = names.toArray(new String[0]);
            for (int i = 0; i < this.names.length; i++) {
                slots.put(this.names[i], i);
            }
        }

        int size() {
            return names.length;
        }

        String name(int slot) {
            return names[slot];
        }

        /** The name's slot, or -1 when rows of this shape do not have it. */
        int slotOf(Object name) {
            Integer slot = slots.get(name);
            return slot == null ? -1 : slot;
        }

        /** The slot of each name (-1 where absent): worked out once, then used for every row of this shape. */
        int[] slotsOf(String[] wanted) {
            int[] out = new int[wanted.length];
            for (int i = 0; i < wanted.length; i++) {
                out[i] = slotOf(wanted[i]);
            }
            return out;
        }
    }

    private final Shape shape;
    private final Object[] values;

    /** @param values by slot; taken, not copied */
    ShapedRow(Shape shape, Object[] values) {
        if (values.length != shape.size()) {
            throw new IllegalArgumentException(values.length + " values for a shape of " + shape.size() + " fields");
        }
        this.shape = shape;
        this.values = values;
    }

    Shape shape() {
        return shape;
    }

    Object valueAt(int slot) {
        return values[slot];
    }

    @Override
    public Object get(Object key) {
        int slot = shape.slotOf(key);
        return slot < 0 ? null : values[slot];
    }

    @Override
    public boolean containsKey(Object key) {
        return shape.slotOf(key) >= 0;
    }

    @Override
    public int size() {
        return values.length;
    }

    @Override
    public void forEach(BiConsumer<? super String, ? super Object> action) {
        for (int i = 0; i < values.length; i++) {
            action.accept(shape.name(i), values[i]);
        }
    }

    @Override
    public Set<Entry<String, Object>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Entry<String, Object>> iterator() {
                return new Iterator<>() {
                    private int next;

                    @Override
                    public boolean hasNext() {
                        return next < values.length;
                    }

                    @Override
                    public Entry<String, Object> next() {
                        if (next >= values.length) {
                            throw new NoSuchElementException();
                        }
                        int slot = next++;
                        return new SimpleImmutableEntry<>(shape.name(slot), values[slot]);
                    }
                };
            }

            @Override
            public int size() {
                return values.length;
            }
        };
    }
}
