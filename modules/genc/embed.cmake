# embed.cmake: writes IN (a text file) as the C string genc_prelude into OUT (cmake -P).
file(READ ${IN} HEX HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," BYTES "${HEX}")
file(WRITE ${OUT} "/* Generated from genc_prelude.h by embed.cmake. */\nconst char genc_prelude[] = {${BYTES} 0};\n")
