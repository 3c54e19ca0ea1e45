# The decoder of the 2008 Ruby client (coderrr's): a regex substitution of
# the prefix, then JSON.parse. Counts bodies by kind.
require 'json'

kinds = Hash.new(0)
File.foreach(ARGV[0]) do |line|
  j = JSON.parse(line.sub(/\Afor\s*\(;;\);\s*/, ''))
  kinds[j['t'] || (j['error'] == 0 ? 'envelope' : 'error')] += 1
end
puts "#{kinds.values.sum} bodies: #{kinds}"
