# embed_text.cmake: writes the text of file IN as a C string constant NAME into OUT.
# Usage: cmake -DIN=file -DOUT=file.c -DNAME=identifier -P embed_text.cmake
file(READ ${IN} text)
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "\n" "\\n\"\n\"" text "${text}")
file(WRITE ${OUT}.tmp "/* generated from ${IN} by cmake/embed_text.cmake */\nconst char ${NAME}[] = \"${text}\";\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
