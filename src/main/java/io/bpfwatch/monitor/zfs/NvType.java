package io.bpfwatch.monitor.zfs;

/** libnvpair's data_type_t (include/sys/nvpair.h), in enum order. */
public enum NvType {
    UNKNOWN, BOOLEAN, BYTE, INT16, UINT16, INT32, UINT32, INT64, UINT64, STRING,
    BYTE_ARRAY, INT16_ARRAY, UINT16_ARRAY, INT32_ARRAY, UINT32_ARRAY, INT64_ARRAY, UINT64_ARRAY,
    STRING_ARRAY, HRTIME, NVLIST, NVLIST_ARRAY, BOOLEAN_VALUE, INT8, UINT8, BOOLEAN_ARRAY,
    INT8_ARRAY, UINT8_ARRAY, DOUBLE;

    private static final NvType[] ALL = values();

    /** The type with this number, or null. */
    public static NvType of(int code) {
        return code > 0 && code < ALL.length ? ALL[code] : null;
    }

    /** Bytes of one element of a fixed-size type or array; 0 for the others. */
    int elementSize() {
        return switch (this) {
            case BYTE, INT8, UINT8, BYTE_ARRAY, INT8_ARRAY, UINT8_ARRAY -> 1;
            case INT16, UINT16, INT16_ARRAY, UINT16_ARRAY -> 2;
            case INT32, UINT32, INT32_ARRAY, UINT32_ARRAY, BOOLEAN_VALUE, BOOLEAN_ARRAY -> 4;
            case INT64, UINT64, INT64_ARRAY, UINT64_ARRAY, HRTIME, DOUBLE -> 8;
            default -> 0;
        };
    }

    boolean isArray() {
        return switch (this) {
            case BYTE_ARRAY, INT16_ARRAY, UINT16_ARRAY, INT32_ARRAY, UINT32_ARRAY, INT64_ARRAY,
                    UINT64_ARRAY, STRING_ARRAY, NVLIST_ARRAY, BOOLEAN_ARRAY, INT8_ARRAY, UINT8_ARRAY -> true;
            default -> false;
        };
    }

    boolean isSigned() {
        return switch (this) {
            case INT8, INT16, INT32, INT64, INT8_ARRAY, INT16_ARRAY, INT32_ARRAY, INT64_ARRAY, HRTIME -> true;
            default -> false;
        };
    }
}
