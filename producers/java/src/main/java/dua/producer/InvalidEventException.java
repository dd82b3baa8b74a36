package dua.producer;

/**
 * An event breaks the contract. {@link #field()} names the field (a dotted path, as in every
 * dua SDK) and {@link #code()} is the stable error code of the conformance suite.
 */
public final class InvalidEventException extends DuaException {
  private static final long serialVersionUID = 1L;
  private final String field;
  private final String code;

  InvalidEventException(String field, String code, String problem) {
    super(field + ": " + problem);
    this.field = field;
    this.code = code;
  }

  public String field() {
    return field;
  }

  public String code() {
    return code;
  }
}
