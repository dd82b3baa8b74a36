package dua.producer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The one call of Confluent's schema-registry REST API the SDK needs: register, get the id. */
final class SchemaRegistry {
  private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*(\\d+)");
  private final String url;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  SchemaRegistry(String url) {
    this.url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  int register(String subject, String schemaJson) {
    String body = "{\"schema\":" + quote(schemaJson) + "}";
    HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/subjects/" + subject + "/versions"))
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      Matcher m = ID.matcher(response.body());
      if (response.statusCode() / 100 != 2 || !m.find()) {
        throw new DuaException("schema registry answered " + response.statusCode() + " for " + subject);
      }
      return Integer.parseInt(m.group(1));
    } catch (IOException e) {
      throw new DuaException("schema registry at " + url + " did not answer", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DuaException("interrupted while registering " + subject, e);
    }
  }

  static String quote(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }
}
