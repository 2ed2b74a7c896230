package request

import "strconv"

// Count says n of a noun as people write it: "1 number", "99 numbers",
// "0 numbers". The plural adds an s, which holds for every noun the bot
// counts (numbers, rows, users, customers, requests).
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
