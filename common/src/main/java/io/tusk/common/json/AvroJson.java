package io.tusk.common.json;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Collection;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.IndexedRecord;

/**
 * Renders Avro records as JSON for the HTTP APIs: records become objects, enums strings, unions
 * their branch's value, bytes base64 (fields that carry text are rendered by the caller).
 */
public final class AvroJson {
  private AvroJson() {}

  /** The JSON form of {@code record}. */
  public static JsonObject toJson(IndexedRecord record) {
    JsonObject json = new JsonObject();
    for (Schema.Field field : record.getSchema().getFields()) {
      json.put(field.name(), value(field.schema(), record.get(field.pos())));
    }
    return json;
  }

  private static Object value(Schema schema, Object value) {
    if (value == null) {
      return null;
    }
    switch (schema.getType()) {
      case RECORD:
        return toJson((IndexedRecord) value);
      case ARRAY:
        JsonArray array = new JsonArray();
        for (Object item : (Collection<?>) value) {
          array.add(value(schema.getElementType(), item));
        }
        return array;
      case MAP:
        JsonObject map = new JsonObject();
        for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
          map.put(entry.getKey().toString(), value(schema.getValueType(), entry.getValue()));
        }
        return map;
      case UNION:
        return value(schema.getTypes().get(GenericData.get().resolveUnion(schema, value)), value);
      case ENUM:
      case STRING:
        return value.toString();
      case BYTES:
        ByteBuffer buffer = ((ByteBuffer) value).duplicate();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return Base64.getEncoder().encodeToString(bytes);
      default:
        return value;
    }
  }
}
