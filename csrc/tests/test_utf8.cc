#include <gtest/gtest.h>

#include <string>

#include "nemo_fast/common/utf8.h"

namespace nemo_fast {
namespace {

const std::string kFffd = "\xef\xbf\xbd";

TEST(RepairUtf8, KeepsValidText) {
  const std::string text = "a \xe2\x82\xac \xc3\xa9 \xf0\x9f\x98\x80 z";  // a, euro, e-acute, emoji
  EXPECT_EQ(RepairUtf8(text), text);
  EXPECT_EQ(RepairUtf8(text, true), text);
}

TEST(RepairUtf8, ReplacesEachByteOfAnInvalidSequenceAsSentencePiece) {
  EXPECT_EQ(RepairUtf8("\xe2\x82"
                       "A"),
            kFffd + kFffd + "A");
  EXPECT_EQ(RepairUtf8("\xff"), kFffd);
  EXPECT_EQ(RepairUtf8("\x80"
                       "b"),
            kFffd + "b");
  EXPECT_EQ(RepairUtf8("\xc0\xaf"), kFffd + kFffd);                          // overlong '/'
  EXPECT_EQ(RepairUtf8("\xed\xa0\x80"), kFffd + kFffd + kFffd);              // a UTF-16 surrogate
  EXPECT_EQ(RepairUtf8("\xf4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // above U+10FFFF
}

TEST(RepairUtf8, AnUnfinishedLastCharacterIsHeldBackOnlyWhenAsked) {
  EXPECT_EQ(RepairUtf8("ok\xf0\x9f\x98", true), "ok");
  EXPECT_EQ(RepairUtf8("ok\xf0\x9f\x98", false), "ok" + kFffd + kFffd + kFffd);
  // Invalid, not unfinished: replaced even in a partial result.
  EXPECT_EQ(RepairUtf8("\xe2"
                       "A\xe2",
                       true),
            kFffd + "A");
}

}  // namespace
}  // namespace nemo_fast
